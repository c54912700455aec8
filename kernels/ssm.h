// kernels/ssm.h: kernels of ops/ssm.cpp: the EMA kernel and the SSM
// convolution (formulas, term by term, in ops/ssm.cpp).
#pragma once

#include <string_view>

#include "kernels/common.h"
#include "kernels/math.h"

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

// ---- The per-(row c, state n) formulas of the EMA that both backends and
// both of its forms (the kernel here, the scan in kernels/ema_scan.h) run;
// the terms are numbered at the top of ops/ssm.cpp ----

// s = sqrt(1 / N), the scale of every coefficient.
template <class T>
SEQBOAT_HOST_DEVICE inline T ema_scale(int64_t N) {
  return static_cast<T>(math_sqrt(1.0 / static_cast<double>(N)));
}

// p = sigmoid(delta), a = sigmoid(alpha), q = 1 - p a, log q, coef = p beta gamma s.
template <class T>
struct EmaCoeffs {
  T p, a, q, log_q, coef;
};
template <class T>
SEQBOAT_HOST_DEVICE inline EmaCoeffs<T> ema_coeffs(T delta, T alpha, T beta, T gamma, T scale) {
  EmaCoeffs<T> e;
  e.p = T(1) / (T(1) + math_exp(-delta));
  e.a = T(1) / (T(1) + math_exp(-alpha));
  e.q = T(1) - e.p * e.a;
  e.log_q = math_log(e.q);
  e.coef = e.p * beta * gamma * scale;
  return e;
}

// The four parameter gradients of one (c, n) from S0 = sum_l G q^l and
// S1 = sum_l G l q^(l-1): dbeta, dgamma, then dp (terms 1 and 2) and da
// through the sigmoids into ddelta and dalpha.
template <class T>
struct EmaParamGrads {
  T delta, alpha, beta, gamma;
};
template <class T>
SEQBOAT_HOST_DEVICE inline EmaParamGrads<T> ema_param_grads(const EmaCoeffs<T>& e, T beta, T gamma, T scale, T S0,
                                                            T S1) {
  const T dp = beta * gamma * scale * S0  // term 1: d/dp through coef
               - e.a * e.coef * S1;       // term 2: d/dp through q (dq/dp = -a)
  const T da = -e.p * e.coef * S1;        // a enters through q only (dq/da = -p)
  return {dp * e.p * (T(1) - e.p), da * e.a * (T(1) - e.a), e.p * gamma * scale * S0, e.p * beta * scale * S0};
}

// The FFT length of a convolution of L samples with Lk taps: the smallest
// power of two >= max(4, L + Lk - 1) (no wrap-around).
SEQBOAT_HOST_DEVICE inline int64_t conv_fft_size(int64_t L, int64_t Lk) {
  int64_t n = 4;
  while (n < L + Lk - 1) n *= 2;
  return n;
}

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
