// kernels/nn.h: kernels of ops/nn_ops.cpp (formulas, term by term, in
// ops/nn_ops.h). Buffers are contiguous.
#pragma once

#include "kernels/common.h"

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

// keep[i] = 1 where the Philox draw of element i of dropout call `offset`
// is >= p (kernels/philox.h); registered under UInt8.
template <class T>
using DropoutMaskFn = void(uint64_t seed, uint64_t offset, double p, int64_t n, uint8_t* keep);
// y[i] = keep[i] ? x[i] scale : 0
template <class T>
using ApplyKeepFn = void(int64_t n, const T* x, const uint8_t* keep, T scale, T* y);

}  // namespace seqboat::kernels
