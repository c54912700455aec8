// ops/ema_scan.h: the EMA convolution as linear recurrences (docs/semantics.md
// section 1), straight from the EMA's parameters (what MultiHeadEMA runs), and
// the decoding ops that carry the recurrences' state from one token to the
// next. Formulas, term by term, in ops/ema_scan.cpp.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace seqboat {

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

}  // namespace seqboat
