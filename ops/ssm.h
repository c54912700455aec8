// ops/ssm.h: the SeqBoat state-space ops (docs/semantics.md section 1), each with
// a hand-written backward (formulas, term by term, in ops/ssm.cpp).
//
//   ema_kernel(delta, alpha, beta, gamma, Lk) -> (K, Lk)
//       k[c,l] = sum_n p beta q^l gamma sqrt(1/N),  p = sigmoid(delta), q = 1 - p sigmoid(alpha)
//   ssm_conv(x, kernel, padding_mask, bidirectional) -> (B, L, D)
//       causal:        y[t] = sum_i k1[i] x0[t-i]
//       bidirectional: y[t] = sum_i k1[i] x0[t-i] + sum_i k2[i] x0[t+i]
//       (x0 = x with padding zeroed; the omega * x residual belongs to the module)
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

// x: (B, L, D); kernel: (D, Lk) causal or (2D, Lk) bidirectional, 1 <= Lk <= L
// (Lk < L: a truncated kernel, zero beyond Lk); padding_mask: (B, L) UInt8,
// 1 at padding, or undefined. Returns (B, L, D).
Tensor ssm_conv(const Tensor& x, const Tensor& kernel, const Tensor& padding_mask, bool bidirectional,
                ConvAlgo algo = ConvAlgo::Auto);

// The algorithm Auto picks for these sizes on `device` (never Auto).
ConvAlgo ssm_conv_auto_algo(int64_t B, int64_t L, int64_t D, int64_t Lk, bool bidirectional,
                            Device device = Device::CPU);

}  // namespace seqboat
