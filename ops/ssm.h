// ops/ssm.h: the SeqBoat state-space ops (SPEC sections 1 and 2), each with
// a hand-written backward (formulas, term by term, in ops/ssm.cpp).
//
//   ema_kernel(delta, alpha, beta, gamma, Lk) -> (K, Lk)
//       k[c,l] = sum_n p beta q^l gamma sqrt(1/N),  p = sigmoid(delta), q = 1 - p sigmoid(alpha)
//   ssm_conv(x, kernel, padding_mask, bidirectional) -> (B, L, D)
//       causal:        y[t] = sum_i k1[i] x0[t-i]
//       bidirectional: y[t] = sum_i k1[i] x0[t-i] + sum_i k2[i] x0[t+i]
//       (x0 = x with padding zeroed; the omega * x residual belongs to the module)
//   rotary(x, positions) -> (B, S, Z): pairs (x[2m], x[2m+1]) rotated by pos * 10000^(-2m/Z)
//   rel_pos_bias_gather(w, pos_q, pos_k) -> (B, S, T): w[rel_pos_index(M, pos_q[i], pos_k[j])]
//
// Typical use (MultiHeadEMA, causal, truncation `trunc` or none):
//   Tensor k = ema_kernel(delta, alpha, beta, gamma, std::min(trunc, L));
//   Tensor y = ssm_conv(x, k, pad, /*bidirectional=*/false) + x * omega;
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/ssm.h"
#include "tensor/tensor.h"

namespace seqboat {

// delta, alpha, beta: (K, N, 1); gamma: (K, N); length = Lk >= 0 (the caller
// passes min(truncation, L)). Returns the (K, Lk) EMA kernel.
Tensor ema_kernel(const Tensor& delta, const Tensor& alpha, const Tensor& beta, const Tensor& gamma, int64_t length);

// How ssm_conv evaluates the convolution: Direct sums, the same sums as one
// Toeplitz matrix product per channel (fast for L <= 256), or FFT. All are
// exact; Auto lets the backend pick the fastest for the sizes (the CPU's cost
// model is fitted in cpu/ssm.cpp).
using kernels::ConvAlgo;
using kernels::ConvGeometry;
using kernels::rel_pos_index;

// x: (B, L, D); kernel: (D, Lk) causal or (2D, Lk) bidirectional, 1 <= Lk <= L
// (Lk < L: a truncated kernel, zero beyond Lk); padding_mask: (B, L) UInt8,
// 1 at padding, or undefined. Returns (B, L, D).
Tensor ssm_conv(const Tensor& x, const Tensor& kernel, const Tensor& padding_mask, bool bidirectional,
                ConvAlgo algo = ConvAlgo::Auto);

// The EMA convolution straight from the parameters (what MultiHeadEMA runs):
// the same numbers as ssm_conv(x, ema_kernel(delta, alpha, beta, gamma, Lk),
// padding_mask, bidirectional), computed as N linear recurrences per channel
// in O(B L D N), without the kernel or an FFT. delta, alpha, beta: (K, N, 1),
// gamma: (K, N) with K = D (causal) or 2D (bidirectional); x: (B, L, D);
// truncation: Lk = min(truncation, L), 0 = none. Differentiable in x and the
// four parameters.
Tensor ema_conv(const Tensor& x, const Tensor& delta, const Tensor& alpha, const Tensor& beta, const Tensor& gamma,
                const Tensor& padding_mask, bool bidirectional, int64_t truncation = 0);

// Incremental decoding with a causal EMA (inference ops: they record no
// gradient and refuse inputs that require one while gradients are recorded):
// ema_state: the recurrences' state (B, D, N) after the last position of x,
//   h_n = sum_{i < Lk} q_n^i x0[L-1-i], so that stepping on from it continues
//   ema_conv exactly;
// ema_step: one position for every row: h_n = q_n h_n + x_t - q_n^Lk x_old
//   with Lk = truncation (x_old: the input Lk positions back; undefined when
//   there is no truncation or no such input yet), h updated in place; returns
//   y (B, D) = sum_n coef_n h_n (the omega term is the module's).
Tensor ema_state(const Tensor& x, const Tensor& delta, const Tensor& alpha, const Tensor& beta, const Tensor& gamma,
                 const Tensor& padding_mask, int64_t truncation = 0);
Tensor ema_step(const Tensor& x_t, const Tensor& x_old, const Tensor& delta, const Tensor& alpha, const Tensor& beta,
                const Tensor& gamma, const Tensor& h, int64_t truncation = 0);

// The algorithm Auto picks for these sizes on `device` (never Auto).
ConvAlgo ssm_conv_auto_algo(int64_t B, int64_t L, int64_t D, int64_t Lk, bool bidirectional,
                            Device device = Device::CPU, DType dtype = DType::Float32);

// x: (B, S, Z), Z even, any strides; positions: (B, S) Int64, the tokens'
// original positions. Returns a contiguous (B, S, Z).
Tensor rotary(const Tensor& x, const Tensor& positions);

// w: (2M - 1); pos_q: (B, S), pos_k: (B, T) Int64. Returns (B, S, T) with
// out[b,i,j] = w[rel_pos_index(M, pos_q[b,i], pos_k[b,j])].
Tensor rel_pos_bias_gather(const Tensor& w, const Tensor& pos_q, const Tensor& pos_k);

}  // namespace seqboat
