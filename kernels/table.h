// kernels/table.h: THE list of kernels. One row per kernel: the op family
// whose op calls it, its name, and its signature (a template over the element
// type T, declared in the family's header beside this one). Each backend
// (cpu/backend.cpp, cuda/backend.cu) fills a BackendKernels with the kernels
// it has, per dtype; a slot left null is "no such kernel", which the op
// reports as "<op>: no <device> kernel for <dtype>". `seqboat kernels` prints
// which slots each backend filled.
//
// Adding a kernel: a signature in the family header, a row here, and an
// assignment in each backend's table that implements it.
#pragma once

#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/index.h"
#include "kernels/linalg.h"
#include "kernels/nn.h"
#include "kernels/optim.h"
#include "kernels/reduce.h"
#include "kernels/shape.h"
#include "kernels/sma.h"
#include "kernels/ssm.h"

#include <type_traits>

// K(family, name, signature)
// clang-format off
#define SEQBOAT_KERNEL_LIST(K)                                                \
  K(shape, copy_strided, CopyStridedFn)                                       \
  K(shape, cast, CastFn)                                                      \
  K(elementwise, binary, BinaryFn)                                            \
  K(elementwise, compare, CompareFn)                                          \
  K(elementwise, unary, UnaryFn)                                              \
  K(elementwise, unary_backward, UnaryBackwardFn)                             \
  K(elementwise, logical_not, LogicalNotFn)                                   \
  K(elementwise, where, WhereFn)                                              \
  K(elementwise, masked_fill, MaskedFillFn)                                   \
  K(reduce, sum_rows, SumRowsFn)                                              \
  K(reduce, sum_leading, SumLeadingFn)                                        \
  K(reduce, max_rows, MaxRowsFn)                                              \
  K(reduce, place_at_index, PlaceAtIndexFn)                                   \
  K(linalg, gemm, GemmFn)                                                     \
  K(linalg, linear_forward, LinearFn)                                         \
  K(linalg, linear_backward, LinearBackwardFn)                                \
  K(index, gather, GatherFn)                                                  \
  K(index, scatter, ScatterFn)                                                \
  K(index, zero_indexed, ZeroIndexedFn)                                       \
  K(index, first_repeat, FirstRepeatFn)                                       \
  K(index, first_out_of_range, FirstOutOfRangeFn)                             \
  K(nn, softmax_forward, SoftmaxFn)                                           \
  K(nn, softmax_backward, SoftmaxBackwardFn)                                  \
  K(nn, cross_entropy_forward, CrossEntropyFn)                                \
  K(nn, cross_entropy_backward, CrossEntropyBackwardFn)                       \
  K(nn, layer_norm_forward, LayerNormFn)                                      \
  K(nn, layer_norm_backward, LayerNormBackwardFn)                             \
  K(nn, batch_norm_forward, BatchNormFn)                                      \
  K(nn, batch_norm_backward, BatchNormBackwardFn)                             \
  K(nn, embedding_forward, EmbeddingFn)                                       \
  K(nn, embedding_backward, EmbeddingBackwardFn)                              \
  K(nn, dropout_mask, DropoutMaskFn)                                          \
  K(nn, apply_keep, ApplyKeepFn)                                              \
  K(ssm, ema_kernel_forward, EmaKernelFn)                                     \
  K(ssm, ema_kernel_backward, EmaKernelBackwardFn)                            \
  K(ssm, ssm_conv_algo, SsmConvAlgoFn)                                        \
  K(ssm, ssm_conv_forward, SsmConvFn)                                         \
  K(ssm, ssm_conv_backward, SsmConvBackwardFn)                                \
  K(ssm, ema_scan_forward, EmaScanFn)                                         \
  K(ssm, ema_scan_backward, EmaScanBackwardFn)                                \
  K(ssm, ema_scan_state, EmaScanStateFn)                                      \
  K(ssm, ema_scan_step, EmaScanStepFn)                                        \
  K(ssm, rotary, RotaryFn)                                                    \
  K(ssm, rel_pos_bias_gather_forward, RelPosBiasGatherFn)                     \
  K(ssm, rel_pos_bias_gather_backward, RelPosBiasGatherBackwardFn)            \
  K(attention, attention_valid_keys, AttnValidKeysFn)                         \
  K(attention, local_attention_forward, LocalAttentionFn)                     \
  K(attention, local_attention_backward, LocalAttentionBackwardFn)            \
  K(attention, local_attention_reference, LocalAttentionReferenceFn)          \
  K(sma, sma_router_forward, SmaRouterFn)                                     \
  K(sma, sma_router_backward, SmaRouterBackwardFn)                            \
  K(sma, sma_count_active, SmaCountActiveFn)                                  \
  K(sma, sma_plan_fill, SmaPlanFillFn)                                        \
  K(sma, sma_move_rows, SmaMoveRowsFn)                                        \
  K(optim, adamw_step, AdamWFn)                                               \
  K(optim, sgd_step, SgdFn)                                                   \
  K(optim, sum_of_squares, SumOfSquaresFn)                                    \
  K(optim, scale_inplace, ScaleFn)                                            \
  K(optim, all_finite, AllFiniteFn)
// clang-format on

namespace seqboat::kernels {

// One backend's kernels for element type T (null: not implemented).
template <class T>
struct TypedKernels {
#define SEQBOAT_KERNEL_SLOT(family, name, Fn) Fn<T>* name = nullptr;
  SEQBOAT_KERNEL_LIST(SEQBOAT_KERNEL_SLOT)
#undef SEQBOAT_KERNEL_SLOT
};

// Everything one backend offers, by dtype. Kernels that move masks or
// indices only (dropout_mask, sma_plan_fill, ...) sit under the dtype of
// their data, as the table's comments in the family headers say.
struct BackendKernels {
  TypedKernels<float> f32;
  TypedKernels<double> f64;
  TypedKernels<int64_t> i64;
  TypedKernels<uint8_t> u8;

  template <class T>
  const TypedKernels<T>& of() const {
    if constexpr (std::is_same_v<T, float>) return f32;
    else if constexpr (std::is_same_v<T, double>) return f64;
    else if constexpr (std::is_same_v<T, int64_t>) return i64;
    else return u8;
  }
};

}  // namespace seqboat::kernels
