// kernels/table.h: THE list of op families, and from it the kernel table.
//
// A family is one file stem in every layer: its op fronts in
// ops/<family>.{h,cpp}, its kernel signatures and rows in
// kernels/<family>.h, its kernels in cpu/<family>.cpp and
// cuda/<family>_impl.h (instantiated by cuda/<family>.cu), its op-table
// cases in tests/op_table_<family>.cpp. Each backend's table is generated
// from SEQBOAT_FAMILIES (cpu/backend.cpp, cuda/backend.cu, and the tests'
// host build of the CUDA kernels), so a new family is one line here and
// one include above it.
//
// A family header ends with its rows, SEQBOAT_KERNELS_<family>(K, U):
// K(family, name, Fn) is a typed kernel, Fn<T> a signature over the element
// type, with a slot per dtype; U(family, name, Fn) is an untyped kernel
// (masks and indices only), one slot. A slot left null is "no such kernel",
// which the op reports as "<op>: no <device> kernel for <dtype>"; `seqboat
// kernels` prints which slots each backend filled.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/ema_scan.h"
#include "kernels/index.h"
#include "kernels/linalg.h"
#include "kernels/nn_ops.h"
#include "kernels/optim.h"
#include "kernels/position.h"
#include "kernels/reduce.h"
#include "kernels/shape.h"
#include "kernels/sma.h"
#include "kernels/ssm.h"

// F(family, X) for every family, bottom up (X is passed through).
// clang-format off
#define SEQBOAT_FAMILIES(F, X) \
  F(shape, X)                  \
  F(elementwise, X)            \
  F(reduce, X)                 \
  F(linalg, X)                 \
  F(index, X)                  \
  F(nn_ops, X)                 \
  F(ssm, X)                    \
  F(ema_scan, X)               \
  F(position, X)               \
  F(attention, X)              \
  F(sma, X)                    \
  F(optim, X)
// clang-format on

// Every kernel row of every family: K(family, name, Fn) or U(family, name, Fn).
#define SEQBOAT_FAMILY_ROWS_(family, KU) SEQBOAT_KERNELS_##family KU
#define SEQBOAT_KERNEL_LIST(K, U) SEQBOAT_FAMILIES(SEQBOAT_FAMILY_ROWS_, (K, U))
#define SEQBOAT_NO_ROW_(family, name, Fn)

namespace seqboat::kernels {

// One backend's typed kernels for element type T (null: not implemented).
template <class T>
struct TypedKernels {
#define SEQBOAT_TYPED_SLOT_(family, name, Fn) Fn<T>* name = nullptr;
  SEQBOAT_KERNEL_LIST(SEQBOAT_TYPED_SLOT_, SEQBOAT_NO_ROW_)
#undef SEQBOAT_TYPED_SLOT_
};

// One backend's untyped kernels.
struct UntypedKernels {
#define SEQBOAT_UNTYPED_SLOT_(family, name, Fn) Fn* name = nullptr;
  SEQBOAT_KERNEL_LIST(SEQBOAT_NO_ROW_, SEQBOAT_UNTYPED_SLOT_)
#undef SEQBOAT_UNTYPED_SLOT_
};

// Everything one backend offers: typed kernels by dtype, untyped kernels,
// and the choices it makes for given sizes (policies: nothing they compute
// touches tensor data).
struct BackendKernels {
  TypedKernels<float> f32;
  TypedKernels<double> f64;
  TypedKernels<int64_t> i64;
  TypedKernels<uint8_t> u8;
  UntypedKernels untyped;
  SsmConvAutoAlgoFn* ssm_conv_auto_algo = nullptr;

  template <class T>
  const TypedKernels<T>& of() const {
    if constexpr (std::is_same_v<T, float>) return f32;
    else if constexpr (std::is_same_v<T, double>) return f64;
    else if constexpr (std::is_same_v<T, int64_t>) return i64;
    else return u8;
  }

  // fill(table, T{}) for the float32 and the float64 table:
  //   k.fill_floats([](auto& t, auto tag) { using T = decltype(tag); t.name = kernel<T>; });
  template <class F>
  void fill_floats(F&& fill) {
    fill(f32, float{});
    fill(f64, double{});
  }
  // The same for all four tables.
  template <class F>
  void fill_all_dtypes(F&& fill) {
    fill_floats(fill);
    fill(i64, int64_t{});
    fill(u8, uint8_t{});
  }
};

}  // namespace seqboat::kernels
