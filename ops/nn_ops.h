// ops/nn_ops.h: the fused neural-network ops: softmax, log_softmax,
// cross_entropy, layer_norm, batch_norm, embedding, dropout. Each has a
// hand-written forward / backward kernel pair per backend (cpu/nn_ops.cpp);
// the backward follows the formulas below term by term. g is the cotangent of
// the output; sums and means run over the normalised dimension.
//
// softmax(x, d):      y = exp(x - max) / sum(exp(x - max))
//     dx = y * (g - sum(g * y))
//       term 1: y * g             the direct path through exp(x_i)
//       term 2: -y * sum(g * y)   the path through the normaliser
//
// log_softmax(x, d):  y = x - max - log(sum(exp(x - max)))
//     dx = g - exp(y) * sum(g)
//       term 1: g                 the direct path through x_i
//       term 2: -softmax * sum(g) the path through log-sum-exp
//
// cross_entropy(z (N, C), t (N), ignore_index):
//     loss = (1/n) sum over rows i with t_i != ignore_index of (lse(z_i) - z_i[t_i])
//     n = number of such rows; n == 0 gives loss 0 and a zero gradient.
//     dz_ij = g/n * (softmax(z_i)_j - [j == t_i]) on counted rows, 0 on ignored rows
//       term 1: softmax(z_i)_j    through lse(z_i)
//       term 2: -[j == t_i]       through the picked logit
//
// layer_norm(x, w, b, eps), over the last dim (D elements per row):
//     mu = mean(x), rstd = 1 / sqrt(mean((x - mu)^2) + eps)
//     xhat = (x - mu) * rstd, y = xhat * w + b   (w = 1, b = 0 when undefined)
//     dxhat = g * w
//     dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
//       term 1: rstd * dxhat                     direct
//       term 2: -rstd * mean(dxhat)              through mu
//       term 3: -rstd * xhat * mean(dxhat*xhat)  through rstd
//     dw = sum over rows of g * xhat,  db = sum over rows of g
//
// batch_norm(x (..., C), w, b, running_mean, running_var, training, m, eps):
//     channel-last; per channel c the statistics run over the M = numel / C
//     positions of all other dims.
//     training: layer_norm's formulas with the mean taken over the M positions
//         (biased variance), gradients through the batch statistics; then, under
//         no-grad and in place: running_mean = (1 - m) running_mean + m mu,
//         running_var = (1 - m) running_var + m var * M / (M - 1)  (unbiased).
//         Needs M > 1. Undefined running stats are not updated.
//     eval: a per-channel affine op with the running statistics,
//         s = w / sqrt(running_var + eps), y = (x - running_mean) * s + b
//         dx = g * s,  dw = sum g * (x - running_mean) / sqrt(running_var + eps),  db = sum g
//     The running statistics are buffers: never differentiated.
//
// embedding(W (V, D), idx Int64 (...)):  y[..., :] = W[idx[...], :]   -> (..., D)
//     dW[v] = sum of g[p] over positions p with idx[p] == v  (repeated rows accumulate)
//
// dropout(x, p, training, rng):  y = x * keep / (1 - p), keep ~ Bernoulli(1 - p)
//     element i is kept when its Philox draw u(seed, offset, i) >= p, where
//     offset = rng.take_offset() numbers this call (kernels/philox.h):
//     the mask depends only on (seed, offset, i), on every device
//     dx = g * keep / (1 - p)
//     Identity (returns x, no offset taken) when !training or p == 0; p
//     outside [0, 1) throws.
#pragma once

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace seqboat {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
Tensor cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index = -100);
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);
Tensor embedding(const Tensor& weight, const Tensor& index);
Tensor dropout(const Tensor& x, double p, bool training, DropoutRng& rng);

}  // namespace seqboat
