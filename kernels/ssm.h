// kernels/ssm.h: kernels of ops/ssm.cpp: the EMA kernel and the SSM
// convolution (formulas, term by term, in ops/ssm.cpp).
#pragma once

#include <string_view>

#include "kernels/common.h"

namespace seqboat::kernels {

// K kernel rows, N states, kernel length (Lk).
struct EmaShape {
  int64_t K = 0, N = 0, length = 0;
};
// k (K, Lk) from delta, alpha, beta (K, N, 1) and gamma (K, N).
template <class T>
using EmaKernelFn = void(const EmaShape& s, const T* delta, const T* alpha, const T* beta, const T* gamma, T* k);
// All four parameter gradients from dk (K, Lk).
template <class T>
using EmaKernelBackwardFn = void(const EmaShape& s, const T* delta, const T* alpha, const T* beta, const T* gamma,
                                 const T* dk, T* d_delta, T* d_alpha, T* d_beta, T* d_gamma);

// How the convolution is evaluated: Direct sums, the same sums as one
// Toeplitz matrix product per channel, or FFT. All exact; Auto lets the
// backend choose (SsmConvAlgoFn) for the sizes.
enum class ConvAlgo { Auto, Direct, Toeplitz, FFT };
// Their names, as configs, the command line and reports spell them, by enum value.
inline constexpr const char* kConvAlgoNames[] = {"auto", "direct", "toeplitz", "fft"};
inline const char* conv_algo_name(ConvAlgo algo) { return kConvAlgoNames[static_cast<int>(algo)]; }
// The algorithm named `name`; false when there is none.
inline bool parse_conv_algo(std::string_view name, ConvAlgo& out) {
  for (int i = 0; i < 4; ++i)
    if (name == kConvAlgoNames[i]) {
      out = static_cast<ConvAlgo>(i);
      return true;
    }
  return false;
}

struct ConvGeometry {
  int64_t B = 0, L = 0, D = 0, Lk = 0;
  bool bidirectional = false;
  ConvAlgo algo = ConvAlgo::Auto;  // never Auto when a conv kernel runs
  int64_t sequences() const { return B * D; }
};
// The algorithm a backend runs for geometry g when asked for Auto: a policy
// of the backend (BackendKernels::ssm_conv_auto_algo), not a kernel.
using SsmConvAutoAlgoFn = ConvAlgo(const ConvGeometry& g);
// y (B, L, D) from x (B, L, D), kernel (D or 2D, Lk) and pad (B, L) or null;
// also writes x0_seq (B, D, L): x with padding zeroed, one row per (b, d),
// which the backward reads.
template <class T>
using SsmConvFn = void(const ConvGeometry& g, const T* x, const T* kernel, const uint8_t* pad, T* x0_seq, T* y);
// dx (B, L, D) and dk (accumulated into a zeroed (D or 2D, Lk)); either may be null.
template <class T>
using SsmConvBackwardFn = void(const ConvGeometry& g, const T* G, const T* kernel, const T* x0_seq, const uint8_t* pad,
                               T* dx, T* dk);

}  // namespace seqboat::kernels

// The kernel table's rows of this family (kernels/table.h).
#define SEQBOAT_KERNELS_ssm(K, U)                              \
  K(ssm, ema_kernel_forward, EmaKernelFn)                      \
  K(ssm, ema_kernel_backward, EmaKernelBackwardFn)             \
  K(ssm, ssm_conv_forward, SsmConvFn)                          \
  K(ssm, ssm_conv_backward, SsmConvBackwardFn)
