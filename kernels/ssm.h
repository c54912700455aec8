// kernels/ssm.h: kernels of ops/ssm.cpp: the EMA kernel, the SSM
// convolution, rotary embedding and the relative-position bias (formulas,
// term by term, in ops/ssm.cpp).
#pragma once

#include "kernels/common.h"

namespace seqboat::kernels {

// Index into the (2M - 1) relative-position bias vector for a query at
// original position pos_q and a key at pos_k: offsets beyond +-(M-1) reuse
// the end values.
SEQBOAT_HOST_DEVICE inline int64_t rel_pos_index(int64_t M, int64_t pos_q, int64_t pos_k) {
  const int64_t r = M - 1 + pos_k - pos_q;
  return r < 0 ? 0 : (r > 2 * M - 2 ? 2 * M - 2 : r);
}

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

struct ConvGeometry {
  int64_t B = 0, L = 0, D = 0, Lk = 0;
  bool bidirectional = false;
  ConvAlgo algo = ConvAlgo::Auto;  // never Auto when a conv kernel runs
  int64_t sequences() const { return B * D; }
};
// The algorithm this backend runs for geometry g when asked for Auto.
template <class T>
using SsmConvAlgoFn = ConvAlgo(const ConvGeometry& g);
// y (B, L, D) from x (B, L, D), kernel (D or 2D, Lk) and pad (B, L) or null;
// also writes x0_seq (B, D, L): x with padding zeroed, one row per (b, d),
// which the backward reads.
template <class T>
using SsmConvFn = void(const ConvGeometry& g, const T* x, const T* kernel, const uint8_t* pad, T* x0_seq, T* y);
// dx (B, L, D) and dk (accumulated into a zeroed (D or 2D, Lk)); either may be null.
template <class T>
using SsmConvBackwardFn = void(const ConvGeometry& g, const T* G, const T* kernel, const T* x0_seq, const uint8_t* pad,
                               T* dx, T* dk);

// The EMA convolution straight from the parameters, as N linear recurrences
// per channel (ops/ssm.cpp: ema_conv): x (B, L, D), pad (B, L) or null;
// K = D (causal) or 2D (bidirectional) parameter rows, N states, Lk = the
// kernel length (L, or the truncation).
struct EmaScanShape {
  int64_t B = 0, L = 0, D = 0, N = 0, Lk = 0;
  bool bidirectional = false;
};
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

// out = x with every pair (2m, 2m+1) of each of `rows` rows of Z rotated by
// sign * positions[row] * 10000^(-2m/Z) (sign -1: the backward).
template <class T>
using RotaryFn = void(int64_t rows, int64_t Z, double sign, const int64_t* positions, const T* x, T* out);
// out[b,i,j] = w[rel_pos_index(M, pq[b,i], pk[b,j])], out (B, S, Tk).
template <class T>
using RelPosBiasGatherFn = void(int64_t B, int64_t S, int64_t Tk, int64_t M, const T* w, const int64_t* pq,
                                const int64_t* pk, T* out);
// dw (2M - 1) = 0, then dw[r] += g[b,i,j] in (b, i, j) order.
template <class T>
using RelPosBiasGatherBackwardFn = void(int64_t B, int64_t S, int64_t Tk, int64_t M, const T* g, const int64_t* pq,
                                        const int64_t* pk, T* dw);

}  // namespace seqboat::kernels
