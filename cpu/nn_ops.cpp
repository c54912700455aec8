// cpu/nn_ops.cpp: CPU kernels of ops/nn_ops.cpp: softmax, log_softmax,
// cross_entropy, layer_norm, batch_norm, embedding, dropout. Each backward
// follows the formulas of ops/nn_ops.h term by term. Reductions accumulate in
// double; row-independent loops run under OpenMP (each row is computed by one
// thread, so results do not depend on threads).
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "cpu/backend.h"
#include "cpu/parallel.h"
#include "kernels/philox.h"

namespace seqboat::cpu {

namespace {

using kernels::Lines;

// ---------------------------------------------------------------------------
// softmax / log_softmax over one line of n elements at stride s. The last dim
// passes a compile-time unit stride (std::integral_constant) so the loops
// vectorise; other dims are read in place at stride `inner`, without copies.

template <class T, class S>
void softmax_line(const T* x, T* y, int64_t n, S s) {
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t k = 0; k < n; ++k) mx = std::max(mx, x[k * s]);
  T sum = 0;
  for (int64_t k = 0; k < n; ++k) {
    y[k * s] = std::exp(x[k * s] - mx);
    sum += y[k * s];
  }
  const T inv = T(1) / sum;
  for (int64_t k = 0; k < n; ++k) y[k * s] *= inv;
}

template <class T, class S>
void log_softmax_line(const T* x, T* y, int64_t n, S s) {
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t k = 0; k < n; ++k) mx = std::max(mx, x[k * s]);
  T sum = 0;
  for (int64_t k = 0; k < n; ++k) sum += std::exp(x[k * s] - mx);
  const T lse = mx + std::log(sum);
  for (int64_t k = 0; k < n; ++k) y[k * s] = x[k * s] - lse;
}

// softmax backward, terms 1 and 2 (ops/nn_ops.h).
template <class T, class S>
void softmax_backward_line(const T* y, const T* g, T* dx, int64_t n, S s) {
  T dot = 0;
  for (int64_t k = 0; k < n; ++k) dot += g[k * s] * y[k * s];
  for (int64_t k = 0; k < n; ++k)
    dx[k * s] = y[k * s] * g[k * s]  // term 1: direct
                - y[k * s] * dot;    // term 2: through the normaliser
}

// log_softmax backward, terms 1 and 2 (ops/nn_ops.h).
template <class T, class S>
void log_softmax_backward_line(const T* y, const T* g, T* dx, int64_t n, S s) {
  T sg = 0;
  for (int64_t k = 0; k < n; ++k) sg += g[k * s];
  for (int64_t k = 0; k < n; ++k)
    dx[k * s] = g[k * s]                    // term 1: direct
                - std::exp(y[k * s]) * sg;  // term 2: through log-sum-exp
}

// Calls f(start, stride) for every line, in parallel over lines.
template <class F>
void for_each_line(const Lines& l, F f) {
  const int64_t count = l.outer * l.inner;
  const bool parallel = count * l.n > kParallelWork;
  if (l.inner == 1) {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t r = 0; r < count; ++r) f(r * l.n, std::integral_constant<int64_t, 1>{});
  } else {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t r = 0; r < count; ++r) f((r / l.inner) * l.n * l.inner + r % l.inner, l.inner);
  }
}

template <class T>
void softmax_forward(const Lines& l, bool log, const T* x, T* y) {
  for_each_line(l, [&](int64_t at, auto s) {
    if (log) log_softmax_line(x + at, y + at, l.n, s);
    else softmax_line(x + at, y + at, l.n, s);
  });
}

template <class T>
void softmax_backward(const Lines& l, bool log, const T* y, const T* g, T* dx) {
  for_each_line(l, [&](int64_t at, auto s) {
    if (log) log_softmax_backward_line(y + at, g + at, dx + at, l.n, s);
    else softmax_backward_line(y + at, g + at, dx + at, l.n, s);
  });
}

// ---------------------------------------------------------------------------
// cross_entropy over (N, C) logits.

template <class T>
void cross_entropy_forward(int64_t N, int64_t C, int64_t ignore, const T* z, const int64_t* t, T* lse, T* loss) {
  double total = 0;
  int64_t counted = 0;
  for (int64_t i = 0; i < N; ++i) {
    const T* row = z + i * C;
    T mx = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j < C; ++j) mx = std::max(mx, row[j]);
    T sum = 0;
    for (int64_t j = 0; j < C; ++j) sum += std::exp(row[j] - mx);
    lse[i] = mx + std::log(sum);
    if (t[i] != ignore) {
      total += static_cast<double>(lse[i] - row[t[i]]);
      ++counted;
    }
  }
  loss[0] = static_cast<T>(counted ? total / static_cast<double>(counted) : 0.0);
}

// dz_ij = scale * (softmax_ij - [j == t_i]) on counted rows, scale = g / n.
template <class T>
void cross_entropy_backward(int64_t N, int64_t C, int64_t ignore, const T* z, const int64_t* t, const T* lse,
                            const T* g, T* dz) {
  int64_t counted = 0;
  for (int64_t i = 0; i < N; ++i) counted += t[i] != ignore;
  const T scale = counted ? static_cast<T>(static_cast<double>(g[0]) / static_cast<double>(counted)) : T(0);
  for (int64_t i = 0; i < N; ++i) {
    const T* row = z + i * C;
    T* drow = dz + i * C;
    if (t[i] == ignore) {
      std::fill_n(drow, C, T(0));
      continue;
    }
    for (int64_t j = 0; j < C; ++j) drow[j] = scale * std::exp(row[j] - lse[i]);  // term 1: through lse
    drow[t[i]] -= scale;                                                          // term 2: the picked logit
  }
}

// ---------------------------------------------------------------------------
// layer_norm over rows of a contiguous (R, D) buffer. w, b may be null.

template <class T>
void layer_norm_forward(int64_t R, int64_t D, double eps, const T* x, const T* w, const T* b, T* y, T* mean, T* rstd) {
#pragma omp parallel for schedule(static) if (R * D > kParallelWork)
  for (int64_t r = 0; r < R; ++r) {
    const T* xr = x + r * D;
    kernels::layer_norm_stats_row(xr, D, eps, mean[r], rstd[r]);
    for (int64_t j = 0; j < D; ++j) {
      const T xhat = (xr[j] - mean[r]) * rstd[r];
      y[r * D + j] = xhat * (w ? w[j] : T(1)) + (b ? b[j] : T(0));
    }
  }
}

// layer_norm backward, terms 1-3 (ops/nn_ops.h), a row at a time.
template <class T>
void layer_norm_backward_dx(const T* x, const T* w, const T* mean, const T* rstd, const T* g, T* dx, int64_t R,
                            int64_t D) {
#pragma omp parallel for schedule(static) if (R * D > kParallelWork)
  for (int64_t r = 0; r < R; ++r) {
    kernels::layer_norm_dx_row(x + r * D, w, mean[r], rstd[r], g + r * D, dx + r * D, D);
  }
}

// layer_norm's dw and db (ops/nn_ops.h), summed over rows in order in double;
// either may be null.
template <class T>
void layer_norm_backward_params(const T* x, const T* mean, const T* rstd, const T* g, T* dw, T* db, int64_t R,
                                int64_t D) {
  std::vector<double> sw(static_cast<size_t>(D), 0.0), sb(static_cast<size_t>(D), 0.0);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t j = 0; j < D; ++j) {
      sw[j] += g[r * D + j] * (x[r * D + j] - mean[r]) * rstd[r];
      sb[j] += g[r * D + j];
    }
  for (int64_t j = 0; j < D; ++j) {
    if (dw) dw[j] = static_cast<T>(sw[j]);
    if (db) db[j] = static_cast<T>(sb[j]);
  }
}

template <class T>
void layer_norm_backward(int64_t R, int64_t D, const T* x, const T* w, const T* mean, const T* rstd, const T* g, T* dx,
                         T* dw, T* db) {
  if (dx) layer_norm_backward_dx(x, w, mean, rstd, g, dx, R, D);
  if (dw || db) layer_norm_backward_params(x, mean, rstd, g, dw, db, R, D);
}

// ---------------------------------------------------------------------------
// batch_norm over a contiguous (M, C) buffer (channel last).

// Per-channel mean and biased variance (two passes).
template <class T>
void batch_stats(const T* x, int64_t M, int64_t C, std::vector<double>& mean, std::vector<double>& var) {
  mean.assign(static_cast<size_t>(C), 0.0);
  var.assign(static_cast<size_t>(C), 0.0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < C; ++c) mean[c] += x[m * C + c];
  for (int64_t c = 0; c < C; ++c) mean[c] /= static_cast<double>(M);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < C; ++c) var[c] += (x[m * C + c] - mean[c]) * (x[m * C + c] - mean[c]);
  for (int64_t c = 0; c < C; ++c) var[c] /= static_cast<double>(M);
}

// running = (1 - m) running + m stat, in place at `stride`.
template <class T>
void update_running(T* running, int64_t stride, const std::vector<double>& stat, double momentum) {
  for (size_t c = 0; c < stat.size(); ++c)
    running[c * stride] = static_cast<T>((1 - momentum) * running[c * stride] + momentum * stat[c]);
}

template <class T>
void batch_norm_forward(const kernels::BatchNormArgs& a, const T* x, const T* w, const T* b, T* running_mean,
                        T* running_var, T* y, T* mean, T* rstd) {
  const int64_t M = a.M, C = a.C;
  std::vector<double> mu(static_cast<size_t>(C)), var(static_cast<size_t>(C));
  if (a.training) {
    batch_stats(x, M, C, mu, var);
  } else {
    for (int64_t c = 0; c < C; ++c) {
      mu[c] = running_mean[c * a.mean_stride];
      var[c] = running_var[c * a.var_stride];
    }
  }
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = static_cast<T>(mu[c]);
    rstd[c] = static_cast<T>(1.0 / std::sqrt(var[c] + a.eps));
  }
  for (int64_t m = 0; m < M; ++m)  // y = (x - mean) * rstd * w + b per channel
    for (int64_t c = 0; c < C; ++c)
      y[m * C + c] = (x[m * C + c] - mean[c]) * rstd[c] * (w ? w[c] : T(1)) + (b ? b[c] : T(0));
  if (a.training && running_mean) {
    for (double& v : var) v *= static_cast<double>(M) / static_cast<double>(M - 1);  // unbiased
    update_running(running_mean, a.mean_stride, mu, a.momentum);
    update_running(running_var, a.var_stride, var, a.momentum);
  }
}

// With sum_g = sum_m g and sum_gx = sum_m g * xhat per channel:
//   training: dx = rstd w (g - sum_g / M - xhat sum_gx / M)   (terms 1, 2, 3 of layer_norm)
//   eval:     dx = rstd w g                                    (the affine op's only term)
//   dw = sum_gx, db = sum_g.  dx, dw, db may be null.
template <class T>
void batch_norm_backward(int64_t M, int64_t C, bool through_stats, const T* x, const T* w, const T* mean, const T* rstd,
                         const T* g, T* dx, T* dw, T* db) {
  std::vector<double> sum_g(static_cast<size_t>(C), 0.0), sum_gx(static_cast<size_t>(C), 0.0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < C; ++c) {
      sum_g[c] += g[m * C + c];
      sum_gx[c] += g[m * C + c] * (x[m * C + c] - mean[c]) * rstd[c];
    }
  for (int64_t c = 0; c < C; ++c) {
    if (dw) dw[c] = static_cast<T>(sum_gx[c]);
    if (db) db[c] = static_cast<T>(sum_g[c]);
  }
  if (!dx) return;
  const double inv_m = through_stats ? 1.0 / static_cast<double>(M) : 0.0;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < C; ++c) {
      const T xhat = (x[m * C + c] - mean[c]) * rstd[c];
      const T mean_g = static_cast<T>(sum_g[c] * inv_m), mean_gx = static_cast<T>(sum_gx[c] * inv_m);
      dx[m * C + c] = rstd[c] * (w ? w[c] : T(1)) *
                      (g[m * C + c]        // term 1: direct
                       - mean_g            // term 2: through the batch mean
                       - xhat * mean_gx);  // term 3: through the batch rstd
    }
}

// ---------------------------------------------------------------------------
// embedding and dropout.

template <class T>
void embedding_forward(int64_t n, int64_t D, const int64_t* idx, const T* w, T* y) {
  for (int64_t i = 0; i < n; ++i) std::copy_n(w + idx[i] * D, D, y + i * D);
}

template <class T>
void embedding_backward(int64_t n, int64_t V, int64_t D, const int64_t* idx, const T* g, T* dw) {
  std::fill_n(dw, V * D, T(0));
  for (int64_t i = 0; i < n; ++i)  // dW[idx[i]] += g[i]
    for (int64_t j = 0; j < D; ++j) dw[idx[i] * D + j] += g[i * D + j];
}

// One Philox block per four elements of the whole batch (element first + i);
// a block is recomputed where a chunk starts inside it.
void dropout_mask(uint64_t seed, uint64_t offset, uint64_t first, double p, int64_t n, uint8_t* keep) {
  const uint64_t threshold = kernels::dropout_threshold(p);
  for_chunks(n, [&](int64_t lo, int64_t hi) {
    kernels::Philox4x32 r{};
    for (int64_t i = lo; i < hi; ++i) {
      const uint64_t g = first + static_cast<uint64_t>(i);
      if (i == lo || g % 4 == 0) r = kernels::dropout_block(seed, offset, g / 4);
      keep[i] = r.v[g % 4] >= threshold;
    }
  });
}

template <class T>
void apply_keep(int64_t n, const T* x, const uint8_t* keep, T scale, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = keep[i] ? x[i] * scale : T(0);
}

}  // namespace

void add_nn_ops_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.softmax_forward = softmax_forward<T>;
    t.softmax_backward = softmax_backward<T>;
    t.cross_entropy_forward = cross_entropy_forward<T>;
    t.cross_entropy_backward = cross_entropy_backward<T>;
    t.layer_norm_forward = layer_norm_forward<T>;
    t.layer_norm_backward = layer_norm_backward<T>;
    t.batch_norm_forward = batch_norm_forward<T>;
    t.batch_norm_backward = batch_norm_backward<T>;
    t.embedding_forward = embedding_forward<T>;
    t.embedding_backward = embedding_backward<T>;
    t.apply_keep = apply_keep<T>;
  });
  k.untyped.dropout_mask = dropout_mask;
}

}  // namespace seqboat::cpu
