// cuda/nn_ops_impl.h: CUDA kernels of ops/nn_ops.cpp (kernels/nn_ops.h) over
// an executor (cuda/exec.h): softmax, cross_entropy, layer_norm, batch_norm,
// embedding, dropout. Formulas (and the backward terms) in ops/nn_ops.h.
// A work item owns a line, a row or an output element and sums sequentially,
// in the CPU backend's order, with the same double accumulators; the long
// sums go through ex.reduce_rows (the cross-entropy mean, bucket counts) or
// ex.reduce_cols (per-channel statistics and parameter gradients over all
// rows), in double.
#pragma once

#include "cuda/exec.h"
#include "kernels/nn_ops.h"
#include "kernels/philox.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::Lines;

// First element and stride of line r.
SEQBOAT_HOST_DEVICE inline void line_start(const Lines& l, int64_t r, int64_t& at, int64_t& step) {
  at = (r / l.inner) * l.n * l.inner + r % l.inner;
  step = l.inner;
}

template <class Exec, class T>
void softmax_forward(Exec& ex, const Lines& l, bool log, const T* x, T* y) {
  ex.for_each(l.outer * l.inner, [=] SEQBOAT_HOST_DEVICE(int64_t r) {
    int64_t at, s;
    line_start(l, r, at, s);
    T mx = -INFINITY;
    for (int64_t k = 0; k < l.n; ++k) mx = math_max(mx, x[at + k * s]);
    T sum = 0;
    if (log) {
      for (int64_t k = 0; k < l.n; ++k) sum += math_exp(x[at + k * s] - mx);
      const T lse = mx + math_log(sum);
      for (int64_t k = 0; k < l.n; ++k) y[at + k * s] = x[at + k * s] - lse;
      return;
    }
    for (int64_t k = 0; k < l.n; ++k) {
      y[at + k * s] = math_exp(x[at + k * s] - mx);
      sum += y[at + k * s];
    }
    const T inv = T(1) / sum;
    for (int64_t k = 0; k < l.n; ++k) y[at + k * s] *= inv;
  });
}

template <class Exec, class T>
void softmax_backward(Exec& ex, const Lines& l, bool log, const T* y, const T* g, T* dx) {
  ex.for_each(l.outer * l.inner, [=] SEQBOAT_HOST_DEVICE(int64_t r) {
    int64_t at, s;
    line_start(l, r, at, s);
    T acc = 0;
    if (log) {  // log_softmax terms 1, 2
      for (int64_t k = 0; k < l.n; ++k) acc += g[at + k * s];
      for (int64_t k = 0; k < l.n; ++k) dx[at + k * s] = g[at + k * s] - math_exp(y[at + k * s]) * acc;
      return;
    }
    for (int64_t k = 0; k < l.n; ++k) acc += g[at + k * s] * y[at + k * s];  // softmax terms 1, 2
    for (int64_t k = 0; k < l.n; ++k) dx[at + k * s] = y[at + k * s] * g[at + k * s] - y[at + k * s] * acc;
  });
}

// Row losses in parallel, then their mean in row order in one work item.
template <class Exec, class T>
void cross_entropy_forward(Exec& ex, int64_t N, int64_t C, int64_t ignore, const T* z, const int64_t* t, T* lse,
                           T* loss) {
  ex.for_each(N, [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    const T* row = z + i * C;
    T mx = -INFINITY;
    for (int64_t j = 0; j < C; ++j) mx = math_max(mx, row[j]);
    T sum = 0;
    for (int64_t j = 0; j < C; ++j) sum += math_exp(row[j] - mx);
    lse[i] = mx + math_log(sum);
  });
  auto sums = ex.template scratch<double>(2);
  double* total = sums.get();  // total[0] = sum of the counted losses, total[1] = how many rows count
  ex.template reduce_rows<double>(
      2, N,
      [=] SEQBOAT_HOST_DEVICE(int64_t r, int64_t i) {
        if (t[i] == ignore) return 0.0;
        return r == 0 ? static_cast<double>(lse[i] - z[i * C + t[i]]) : 1.0;
      },
      [=] SEQBOAT_HOST_DEVICE(int64_t r, double sum) { total[r] = sum; });
  ex.for_each(1, [=] SEQBOAT_HOST_DEVICE(int64_t) {
    loss[0] = static_cast<T>(total[1] > 0 ? total[0] / total[1] : 0.0);
  });
}

template <class Exec, class T>
void cross_entropy_backward(Exec& ex, int64_t N, int64_t C, int64_t ignore, const T* z, const int64_t* t, const T* lse,
                            const T* g, T* dz) {
  auto count = ex.template scratch<double>(1);
  double* counted = count.get();  // rows that count (an exact integer in double)
  ex.template reduce_rows<double>(
      1, N, [=] SEQBOAT_HOST_DEVICE(int64_t, int64_t i) { return t[i] != ignore ? 1.0 : 0.0; },
      [=] SEQBOAT_HOST_DEVICE(int64_t, double sum) { counted[0] = sum; });
  ex.for_each(N * C, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t i = e / C, j = e % C;
    if (t[i] == ignore) {
      dz[e] = T(0);
      return;
    }
    const T scale = static_cast<T>(static_cast<double>(g[0]) / counted[0]);
    dz[e] = scale * math_exp(z[e] - lse[i]) - (j == t[i] ? scale : T(0));  // through lse; the picked logit
  });
}

template <class Exec, class T>
void layer_norm_forward(Exec& ex, int64_t R, int64_t D, double eps, const T* x, const T* w, const T* b, T* y, T* mean,
                        T* rstd) {
  ex.for_each(R, [=] SEQBOAT_HOST_DEVICE(int64_t r) {
    kernels::layer_norm_stats_row(x + r * D, D, eps, mean[r], rstd[r]);
  });
  ex.for_each(R * D, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t r = e / D, j = e % D;
    const T xhat = (x[e] - mean[r]) * rstd[r];
    y[e] = xhat * (w ? w[j] : T(1)) + (b ? b[j] : T(0));
  });
}

template <class Exec, class T>
void layer_norm_backward(Exec& ex, int64_t R, int64_t D, const T* x, const T* w, const T* mean, const T* rstd,
                         const T* g, T* dx, T* dw, T* db) {
  if (dx)
    ex.for_each(R, [=] SEQBOAT_HOST_DEVICE(int64_t r) {
      kernels::layer_norm_dx_row(x + r * D, w, mean[r], rstd[r], g + r * D, dx + r * D, D);
    });
  // Column sums over the rows (ex.reduce_cols), in double: dw[j] = sum_r g xhat,
  // db[j] = sum_r g.
  if (dw)
    ex.template reduce_cols<double>(
        D, R,
        [=] SEQBOAT_HOST_DEVICE(int64_t j, int64_t r) {
          return static_cast<double>(g[r * D + j] * (x[r * D + j] - mean[r]) * rstd[r]);
        },
        [=] SEQBOAT_HOST_DEVICE(int64_t j, double sum) { dw[j] = static_cast<T>(sum); });
  if (db)
    ex.template reduce_cols<double>(
        D, R, [=] SEQBOAT_HOST_DEVICE(int64_t j, int64_t r) { return static_cast<double>(g[r * D + j]); },
        [=] SEQBOAT_HOST_DEVICE(int64_t j, double sum) { db[j] = static_cast<T>(sum); });
}

// Statistics per channel (training: two column sums in double, the
// mean and then the variance about it), then the normalisation per element,
// then the running update per channel.
template <class Exec, class T>
void batch_norm_forward(Exec& ex, const kernels::BatchNormArgs& a, const T* x, const T* w, const T* b, T* running_mean,
                        T* running_var, T* y, T* mean, T* rstd) {
  const int64_t M = a.M, C = a.C;
  auto stats = ex.template scratch<double>(2 * C);
  double* st = stats.get();  // st[c] = mean, st[C + c] = biased variance
  if (a.training) {
    ex.template reduce_cols<double>(
        C, M, [=] SEQBOAT_HOST_DEVICE(int64_t c, int64_t m) { return static_cast<double>(x[m * C + c]); },
        [=] SEQBOAT_HOST_DEVICE(int64_t c, double sum) { st[c] = sum / static_cast<double>(M); });
    ex.template reduce_cols<double>(
        C, M,
        [=] SEQBOAT_HOST_DEVICE(int64_t c, int64_t m) {
          const double d = x[m * C + c] - st[c];
          return d * d;
        },
        [=] SEQBOAT_HOST_DEVICE(int64_t c, double sum) { st[C + c] = sum / static_cast<double>(M); });
  }
  ex.for_each(C, [=] SEQBOAT_HOST_DEVICE(int64_t c) {
    double mu, var;
    if (a.training) {
      mu = st[c];
      var = st[C + c];
    } else {
      mu = running_mean[c * a.mean_stride];
      var = running_var[c * a.var_stride];
    }
    mean[c] = static_cast<T>(mu);
    rstd[c] = static_cast<T>(1.0 / sqrt(var + a.eps));
    if (a.training && running_mean) {
      const double unbiased = var * static_cast<double>(M) / static_cast<double>(M - 1);
      running_mean[c * a.mean_stride] =
          static_cast<T>((1 - a.momentum) * running_mean[c * a.mean_stride] + a.momentum * mu);
      running_var[c * a.var_stride] =
          static_cast<T>((1 - a.momentum) * running_var[c * a.var_stride] + a.momentum * unbiased);
    }
  });
  ex.for_each(M * C, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t c = e % C;
    y[e] = (x[e] - mean[c]) * rstd[c] * (w ? w[c] : T(1)) + (b ? b[c] : T(0));
  });
}

template <class Exec, class T>
void batch_norm_backward(Exec& ex, int64_t M, int64_t C, bool through_stats, const T* x, const T* w, const T* mean,
                         const T* rstd, const T* g, T* dx, T* dw, T* db) {
  auto sums = ex.template scratch<double>(2 * C);
  double* s = sums.get();  // s[c] = sum_g, s[C + c] = sum_gx: row c < C sums g, row C + c sums g xhat
  ex.template reduce_cols<double>(
      2 * C, M,
      [=] SEQBOAT_HOST_DEVICE(int64_t r, int64_t m) {
        const int64_t c = r % C;
        const T gv = g[m * C + c];
        return static_cast<double>(r < C ? gv : gv * (x[m * C + c] - mean[c]) * rstd[c]);
      },
      [=] SEQBOAT_HOST_DEVICE(int64_t r, double sum) {
        s[r] = sum;
        if (r < C && db) db[r] = static_cast<T>(sum);
        if (r >= C && dw) dw[r - C] = static_cast<T>(sum);
      });
  if (!dx) return;
  const double inv_m = through_stats ? 1.0 / static_cast<double>(M) : 0.0;
  ex.for_each(M * C, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t c = e % C;
    const T xhat = (x[e] - mean[c]) * rstd[c];
    const T mean_g = static_cast<T>(s[c] * inv_m), mean_gx = static_cast<T>(s[C + c] * inv_m);
    dx[e] = rstd[c] * (w ? w[c] : T(1)) * (g[e] - mean_g - xhat * mean_gx);  // terms 1, 2, 3
  });
}

template <class Exec, class T>
void embedding_forward(Exec& ex, int64_t n, int64_t D, const int64_t* idx, const T* w, T* y) {
  ex.for_each(n * D, [=] SEQBOAT_HOST_DEVICE(int64_t e) { y[e] = w[idx[e / D] * D + e % D]; });
}

// dW[v, j] = sum over i with idx[i] == v of g[i, j], in order of i. The
// positions are bucketed by index first (a counting sort: counts per v, their
// prefix offsets, then each v's positions in order by a prefix count), so
// each element of dW sums only its own rows: O(V n + n D) work instead of
// every element scanning all n indices. One work item per element of dW: no
// two items write the same place.
template <class Exec, class T>
void embedding_backward(Exec& ex, int64_t n, int64_t V, int64_t D, const int64_t* idx, const T* g, T* dw) {
  auto buckets = ex.template scratch<int64_t>(2 * V + n);
  int64_t* count = buckets.get();  // count[v]: positions with index v
  int64_t* start = count + V;      // start[v]: where v's positions begin in `order`
  int64_t* order = start + V;      // the positions, grouped by index, ascending within a group
  ex.template reduce_rows<int64_t>(
      V, n, [=] SEQBOAT_HOST_DEVICE(int64_t v, int64_t i) -> int64_t { return idx[i] == v; },
      [=] SEQBOAT_HOST_DEVICE(int64_t v, int64_t total) { count[v] = total; });
  ex.scan_rows(
      1, V, [=] SEQBOAT_HOST_DEVICE(int64_t, int64_t v) { return count[v]; },
      [=] SEQBOAT_HOST_DEVICE(int64_t, int64_t v, int64_t before) { start[v] = before; });
  ex.scan_rows(
      V, n, [=] SEQBOAT_HOST_DEVICE(int64_t v, int64_t i) -> int64_t { return idx[i] == v; },
      [=] SEQBOAT_HOST_DEVICE(int64_t v, int64_t i, int64_t before) {
        if (idx[i] == v) order[start[v] + before] = i;
      });
  ex.for_each(V * D, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t v = e / D, j = e % D;
    T acc = 0;
    for (int64_t k = start[v]; k < start[v] + count[v]; ++k) acc += g[order[k] * D + j];
    dw[e] = acc;
  });
}

// One work item per Philox block of four elements of the whole batch
// (elements first + i); the first and last blocks may be partial.
template <class Exec>
void dropout_mask(Exec& ex, uint64_t seed, uint64_t offset, uint64_t first, double p, int64_t n, uint8_t* keep) {
  const uint64_t threshold = kernels::dropout_threshold(p);
  const uint64_t b0 = first / 4, b1 = (first + static_cast<uint64_t>(n) + 3) / 4;
  ex.for_each(static_cast<int64_t>(b1 - b0), [=] SEQBOAT_HOST_DEVICE(int64_t k) {
    const uint64_t blk = b0 + static_cast<uint64_t>(k);
    const kernels::Philox4x32 r = kernels::dropout_block(seed, offset, blk);
    for (uint64_t w = 0; w < 4; ++w) {
      const uint64_t g = 4 * blk + w;
      if (g >= first && g < first + static_cast<uint64_t>(n)) keep[g - first] = r.v[w] >= threshold;
    }
  });
}

template <class Exec, class T>
void apply_keep(Exec& ex, int64_t n, const T* x, const uint8_t* keep, T scale, T* y) {
  ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { y[i] = keep[i] ? x[i] * scale : T(0); });
}

// The nn_ops kernels of executor Exec, for the kernel table.
template <class Exec>
void add_nn_ops_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.softmax_forward = &Bound<&softmax_forward<Exec, T>>::call;
    t.softmax_backward = &Bound<&softmax_backward<Exec, T>>::call;
    t.cross_entropy_forward = &Bound<&cross_entropy_forward<Exec, T>>::call;
    t.cross_entropy_backward = &Bound<&cross_entropy_backward<Exec, T>>::call;
    t.layer_norm_forward = &Bound<&layer_norm_forward<Exec, T>>::call;
    t.layer_norm_backward = &Bound<&layer_norm_backward<Exec, T>>::call;
    t.batch_norm_forward = &Bound<&batch_norm_forward<Exec, T>>::call;
    t.batch_norm_backward = &Bound<&batch_norm_backward<Exec, T>>::call;
    t.embedding_forward = &Bound<&embedding_forward<Exec, T>>::call;
    t.embedding_backward = &Bound<&embedding_backward<Exec, T>>::call;
    t.apply_keep = &Bound<&apply_keep<Exec, T>>::call;
  });
  k.untyped.dropout_mask = &Bound<&dropout_mask<Exec>>::call;
}

}  // namespace seqboat::cuda::impl
