// kernels/ema_scan.h: kernels of ops/ema_scan.cpp: the EMA convolution as
// N linear recurrences per channel, and the decoding steps that carry their
// state (formulas, term by term, in ops/ema_scan.cpp).
#pragma once

#include "kernels/common.h"
#include "kernels/ssm.h"

namespace seqboat::kernels {

// The EMA convolution straight from the parameters, as N linear recurrences
// per channel (ops/ema_scan.cpp): x (B, L, D), pad (B, L) or null;
// K = D (causal) or 2D (bidirectional) parameter rows, N states, Lk = the
// kernel length (L, or the truncation).
struct EmaScanShape {
  int64_t B = 0, L = 0, D = 0, N = 0, Lk = 0;
  bool bidirectional = false;
};
// The recurrence coefficients of parameter row c, state n (cn = c N + n):
// the EMA's (kernels/ssm.h) and the truncation terms qk = q^Lk and
// dqk = Lk q^(Lk-1), which the recurrence subtracts once Lk steps have passed.
template <class T>
struct ScanCoeffs : EmaCoeffs<T> {
  T qk, dqk;
};
template <class T>
SEQBOAT_HOST_DEVICE inline ScanCoeffs<T> scan_coeffs(const EmaScanShape& s, const T* delta, const T* alpha,
                                                     const T* beta, const T* gamma, int64_t cn) {
  ScanCoeffs<T> e;
  static_cast<EmaCoeffs<T>&>(e) = ema_coeffs(delta[cn], alpha[cn], beta[cn], gamma[cn], ema_scale<T>(s.N));
  e.qk = math_exp(T(s.Lk) * e.log_q);
  e.dqk = T(s.Lk) * math_exp(T(s.Lk - 1) * e.log_q);
  return e;
}

// y (B, L, D): the convolution of x (padding zeroed) with the EMA kernel.
template <class T>
using EmaScanFn = void(const EmaScanShape& s, const T* x, const uint8_t* pad, const T* delta, const T* alpha,
                       const T* beta, const T* gamma, T* y);
// dx (B, L, D) and the four parameter gradients ((K, N) each) from G = dy;
// any output may be null.
template <class T>
using EmaScanBackwardFn = void(const EmaScanShape& s, const T* x, const uint8_t* pad, const T* delta, const T* alpha,
                               const T* beta, const T* gamma, const T* G, T* dx, T* d_delta, T* d_alpha, T* d_beta,
                               T* d_gamma);

// Decoding (causal only). h (B, D, N): the recurrences' state after the last
// of the L positions of x (padding zeroed): h_n = sum_{i<Lk} q_n^i x0[L-1-i].
template <class T>
using EmaScanStateFn = void(const EmaScanShape& s, const T* x, const uint8_t* pad, const T* delta, const T* alpha,
                            const T* beta, const T* gamma, T* h);
// One step for every row: h_n = q_n h_n + x_t - q_n^Lk x_old (x_old: the
// input Lk steps back, or null for none / no truncation), then
// y = sum_n coef_n h_n. x_t, x_old, y: (B, D); h updated in place. s.L is unused.
template <class T>
using EmaScanStepFn = void(const EmaScanShape& s, const T* x_t, const T* x_old, const T* delta, const T* alpha,
                           const T* beta, const T* gamma, T* h, T* y);

}  // namespace seqboat::kernels

// The kernel table's rows of this family (kernels/table.h).
#define SEQBOAT_KERNELS_ema_scan(K, U)                         \
  K(ema_scan, ema_scan_forward, EmaScanFn)                     \
  K(ema_scan, ema_scan_backward, EmaScanBackwardFn)            \
  K(ema_scan, ema_scan_state, EmaScanStateFn)                  \
  K(ema_scan, ema_scan_step, EmaScanStepFn)
