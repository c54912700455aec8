// kernels/nn_ops.h: kernels of ops/nn_ops.cpp (formulas, term by term, in
// ops/nn_ops.h). Buffers are contiguous.
#pragma once

#include "kernels/common.h"
#include "kernels/math.h"

namespace seqboat::kernels {

// A contiguous tensor seen as (outer, n, inner) around the softmax dim: line
// r starts at (r / inner) n inner + r % inner and steps by inner.
struct Lines {
  int64_t outer = 1, n = 1, inner = 1;
};
// y = softmax(x) or log_softmax(x) along every line.
template <class T>
using SoftmaxFn = void(const Lines& lines, bool log, const T* x, T* y);
// dx from y and g along every line.
template <class T>
using SoftmaxBackwardFn = void(const Lines& lines, bool log, const T* y, const T* g, T* dx);

// lse[i] = log-sum-exp of row i of z (N, C); loss[0] = mean over the rows
// with t[i] != ignore of lse[i] - z[i, t[i]] (0 when no row counts). Sums in
// double.
template <class T>
using CrossEntropyFn = void(int64_t N, int64_t C, int64_t ignore, const T* z, const int64_t* t, T* lse, T* loss);
// dz from the scalar cotangent g[0].
template <class T>
using CrossEntropyBackwardFn = void(int64_t N, int64_t C, int64_t ignore, const T* z, const int64_t* t, const T* lse,
                                    const T* g, T* dz);

// Rows of D elements; w and b may be null (1 and 0).
template <class T>
using LayerNormFn = void(int64_t R, int64_t D, double eps, const T* x, const T* w, const T* b, T* y, T* mean, T* rstd);
// dx, dw, db (each may be null).
template <class T>
using LayerNormBackwardFn = void(int64_t R, int64_t D, const T* x, const T* w, const T* mean, const T* rstd, const T* g,
                                 T* dx, T* dw, T* db);

// x (M, C) channel-last. training: statistics of x, and (when the running
// buffers are given) running = (1 - momentum) running + momentum stat, the
// variance unbiased; eval: the running statistics. mean and rstd (C) are what
// normalised y. running_mean / running_var are read and written at their
// strides (in place: they are the module's buffers).
struct BatchNormArgs {
  int64_t M = 0, C = 0;
  bool training = true;
  double momentum = 0.1, eps = 1e-5;
  int64_t mean_stride = 1, var_stride = 1;
};
template <class T>
using BatchNormFn = void(const BatchNormArgs& args, const T* x, const T* w, const T* b, T* running_mean, T* running_var,
                         T* y, T* mean, T* rstd);
// through_stats: training (gradient through the batch statistics).
template <class T>
using BatchNormBackwardFn = void(int64_t M, int64_t C, bool through_stats, const T* x, const T* w, const T* mean,
                                 const T* rstd, const T* g, T* dx, T* dw, T* db);

// y[i, :] = W[idx[i], :] for n indices (checked), D columns.
template <class T>
using EmbeddingFn = void(int64_t n, int64_t D, const int64_t* idx, const T* w, T* y);
// dW (V, D) = 0, then dW[idx[i]] += g[i] in order of i.
template <class T>
using EmbeddingBackwardFn = void(int64_t n, int64_t V, int64_t D, const int64_t* idx, const T* g, T* dw);

// ---- The per-row formulas of layer_norm both backends run (terms as
// numbered in ops/nn_ops.cpp; callable on the host and on the GPU) ----

// mean and rstd = 1 / sqrt(var + eps) of row xr (D elements), summed in
// double in order.
template <class T>
SEQBOAT_HOST_DEVICE inline void layer_norm_stats_row(const T* xr, int64_t D, double eps, T& mean, T& rstd) {
  double s = 0, ss = 0;
  for (int64_t j = 0; j < D; ++j) s += xr[j];
  const double mu = s / static_cast<double>(D);
  for (int64_t j = 0; j < D; ++j) ss += (xr[j] - mu) * (xr[j] - mu);
  mean = static_cast<T>(mu);
  rstd = static_cast<T>(1.0 / math_sqrt(ss / static_cast<double>(D) + eps));
}

// dx of row r: rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)),
// dxhat = g w (w may be null: 1), the means summed in double.
template <class T>
SEQBOAT_HOST_DEVICE inline void layer_norm_dx_row(const T* xr, const T* w, T mean, T rstd, const T* gr, T* dxr,
                                                  int64_t D) {
  double sum_dxhat = 0, sum_dxhat_xhat = 0;
  for (int64_t j = 0; j < D; ++j) {
    const T dxhat = gr[j] * (w ? w[j] : T(1));
    sum_dxhat += dxhat;
    sum_dxhat_xhat += dxhat * (xr[j] - mean) * rstd;
  }
  const T mean_dxhat = static_cast<T>(sum_dxhat / static_cast<double>(D));
  const T mean_dxhat_xhat = static_cast<T>(sum_dxhat_xhat / static_cast<double>(D));
  for (int64_t j = 0; j < D; ++j) {
    const T xhat = (xr[j] - mean) * rstd;
    const T dxhat = gr[j] * (w ? w[j] : T(1));
    dxr[j] = rstd * (dxhat                       // term 1: direct
                     - mean_dxhat                // term 2: through mu
                     - xhat * mean_dxhat_xhat);  // term 3: through rstd
  }
}

// keep[i] = 1 where the Philox draw of element first + i of dropout call
// `offset` is >= p (kernels/philox.h). `first` is where this tensor starts in
// the whole batch's elements (a data-parallel rank's rows; 0 in one process).
using DropoutMaskFn = void(uint64_t seed, uint64_t offset, uint64_t first, double p, int64_t n, uint8_t* keep);
// y[i] = keep[i] ? x[i] scale : 0
template <class T>
using ApplyKeepFn = void(int64_t n, const T* x, const uint8_t* keep, T scale, T* y);

}  // namespace seqboat::kernels

// The kernel table's rows of this family (kernels/table.h): K a typed
// kernel (a slot per element type), U an untyped one.
#define SEQBOAT_KERNELS_nn_ops(K, U)                         \
  K(nn_ops, softmax_forward, SoftmaxFn)                      \
  K(nn_ops, softmax_backward, SoftmaxBackwardFn)             \
  K(nn_ops, cross_entropy_forward, CrossEntropyFn)           \
  K(nn_ops, cross_entropy_backward, CrossEntropyBackwardFn)  \
  K(nn_ops, layer_norm_forward, LayerNormFn)                 \
  K(nn_ops, layer_norm_backward, LayerNormBackwardFn)        \
  K(nn_ops, batch_norm_forward, BatchNormFn)                 \
  K(nn_ops, batch_norm_backward, BatchNormBackwardFn)        \
  K(nn_ops, embedding_forward, EmbeddingFn)                  \
  K(nn_ops, embedding_backward, EmbeddingBackwardFn)         \
  U(nn_ops, dropout_mask, DropoutMaskFn)                     \
  K(nn_ops, apply_keep, ApplyKeepFn)
