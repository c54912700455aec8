// ops/nn_ops.cpp: CPU kernels for the ops of ops/nn_ops.h, each a forward /
// backward pair over raw float/double buffers (templated on T), and the
// autograd wrappers that check arguments, run the forward and record the
// backward. The backward kernels follow the header's formulas term by term.
// Reductions accumulate in double; row-independent loops run under OpenMP
// (each row is computed by one thread, so results do not depend on threads).
#include "ops/nn_ops.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "autograd/autograd.h"
#include "ops/kernel_util.h"
#include "ops/shape.h"

namespace seqboat {

namespace {

// An optional per-feature parameter (weight, bias, running stat): undefined,
// or a 1-d tensor of `n` elements with x's dtype.
void check_vector(const char* op, const char* arg, const Tensor& t, const Tensor& x, int64_t n) {
  if (!t.defined()) return;
  check_cpu(op, t);
  check_same_dtype(op, x, t);
  if (t.dim() != 1 || t.size(0) != n)
    fail(fmt::format("{}: {} must have shape [{}] for input of shape {}, got {}", op, arg, n, shape_str(x.shape()),
                     shape_str(t.shape())));
}

// Typed pointer to a contiguous copy's data, or nullptr for an undefined tensor.
template <class T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? t.detach().contiguous() : Tensor(); }

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

// dx = y * (g - sum(g * y))
template <class T, class S>
void softmax_backward_line(const T* y, const T* g, T* dx, int64_t n, S s) {
  T dot = 0;
  for (int64_t k = 0; k < n; ++k) dot += g[k * s] * y[k * s];
  for (int64_t k = 0; k < n; ++k) dx[k * s] = y[k * s] * g[k * s]  // term 1: direct
                                              - y[k * s] * dot;     // term 2: through the normaliser
}

// dx = g - exp(y) * sum(g)
template <class T, class S>
void log_softmax_backward_line(const T* y, const T* g, T* dx, int64_t n, S s) {
  T sg = 0;
  for (int64_t k = 0; k < n; ++k) sg += g[k * s];
  for (int64_t k = 0; k < n; ++k) dx[k * s] = g[k * s]                      // term 1: direct
                                              - std::exp(y[k * s]) * sg;  // term 2: through log-sum-exp
}

// A contiguous tensor seen as (outer, n, inner) around dim d: line r starts
// at (r / inner) * n * inner + r % inner and steps by inner.
struct Lines {
  int64_t outer = 1, n = 1, inner = 1;
};

Lines lines_around(const Shape& s, int64_t d) {
  Lines l;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) {
    if (i < d) l.outer *= s[i];
    else if (i > d) l.inner *= s[i];
  }
  l.n = s[d];
  return l;
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

Tensor softmax_family_backward(const Tensor& y, const Tensor& g, const Lines& l, bool log) {
  Tensor gc = g.contiguous();
  Tensor dx = empty(y.shape(), y.dtype());
  dispatch_float(y.dtype(), log ? "log_softmax_backward" : "softmax_backward", [&](auto tag) {
    using T = decltype(tag);
    const T *py = y.data<T>(), *pg = gc.data<T>();
    T* pd = dx.data<T>();
    for_each_line(l, [&](int64_t at, auto s) {
      if (log) log_softmax_backward_line(py + at, pg + at, pd + at, l.n, s);
      else softmax_backward_line(py + at, pg + at, pd + at, l.n, s);
    });
    return 0;
  });
  return dx;
}

Tensor softmax_family(const char* op, const Tensor& x, int64_t dim, bool log) {
  check_float(op, "x", x);
  const int64_t d = normalize_dim(op, dim, x.dim());
  const Lines l = lines_around(x.shape(), d);
  Tensor xc = x.detach().contiguous();
  Tensor y = empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* px = xc.data<T>();
    T* py = y.data<T>();
    for_each_line(l, [&](int64_t at, auto s) {
      if (log) log_softmax_line(px + at, py + at, l.n, s);
      else softmax_line(px + at, py + at, l.n, s);
    });
    return 0;
  });
  if (!any_requires_grad({&x})) return y;
  Tensor ys = y.detach();
  return record(op, y, {x}, [ys, l, log](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{softmax_family_backward(ys, g, l, log)};
  });
}

// ---------------------------------------------------------------------------
// cross_entropy over (N, C) logits.

void check_targets(const Tensor& target, int64_t classes, int64_t ignore_index) {
  const int64_t* pt = target.data<int64_t>();
  for (int64_t i = 0; i < target.numel(); ++i)
    if (pt[i] != ignore_index && (pt[i] < 0 || pt[i] >= classes))
      fail(fmt::format("cross_entropy: target {} at row {} out of range for {} classes (ignore_index {})", pt[i], i,
                       classes, ignore_index));
}

// Returns the summed loss of counted rows; lse[i] = log-sum-exp of row i.
template <class T>
double cross_entropy_forward(const T* z, const int64_t* t, T* lse, int64_t N, int64_t C, int64_t ignore) {
  double total = 0;
  for (int64_t i = 0; i < N; ++i) {
    const T* row = z + i * C;
    T mx = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j < C; ++j) mx = std::max(mx, row[j]);
    T sum = 0;
    for (int64_t j = 0; j < C; ++j) sum += std::exp(row[j] - mx);
    lse[i] = mx + std::log(sum);
    if (t[i] != ignore) total += static_cast<double>(lse[i] - row[t[i]]);
  }
  return total;
}

// dz_ij = scale * (softmax_ij - [j == t_i]) on counted rows, scale = g / n.
template <class T>
void cross_entropy_backward(const T* z, const int64_t* t, const T* lse, T* dz, int64_t N, int64_t C, int64_t ignore,
                            T scale) {
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
void layer_norm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, int64_t R, int64_t D, double eps) {
#pragma omp parallel for schedule(static) if (R * D > kParallelWork)
  for (int64_t r = 0; r < R; ++r) {
    const T* xr = x + r * D;
    double s = 0, ss = 0;
    for (int64_t j = 0; j < D; ++j) s += xr[j];
    const double mu = s / static_cast<double>(D);
    for (int64_t j = 0; j < D; ++j) ss += (xr[j] - mu) * (xr[j] - mu);
    const double rs = 1.0 / std::sqrt(ss / static_cast<double>(D) + eps);
    mean[r] = static_cast<T>(mu);
    rstd[r] = static_cast<T>(rs);
    for (int64_t j = 0; j < D; ++j) {
      const T xhat = (xr[j] - mean[r]) * rstd[r];
      y[r * D + j] = xhat * (w ? w[j] : T(1)) + (b ? b[j] : T(0));
    }
  }
}

// dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = g * w.
template <class T>
void layer_norm_backward_dx(const T* x, const T* w, const T* mean, const T* rstd, const T* g, T* dx, int64_t R,
                            int64_t D) {
#pragma omp parallel for schedule(static) if (R * D > kParallelWork)
  for (int64_t r = 0; r < R; ++r) {
    const T *xr = x + r * D, *gr = g + r * D;
    double sum_dxhat = 0, sum_dxhat_xhat = 0;
    for (int64_t j = 0; j < D; ++j) {
      const T dxhat = gr[j] * (w ? w[j] : T(1));
      sum_dxhat += dxhat;
      sum_dxhat_xhat += dxhat * (xr[j] - mean[r]) * rstd[r];
    }
    const T mean_dxhat = static_cast<T>(sum_dxhat / static_cast<double>(D));
    const T mean_dxhat_xhat = static_cast<T>(sum_dxhat_xhat / static_cast<double>(D));
    for (int64_t j = 0; j < D; ++j) {
      const T xhat = (xr[j] - mean[r]) * rstd[r];
      const T dxhat = gr[j] * (w ? w[j] : T(1));
      dx[r * D + j] = rstd[r] * (dxhat                        // term 1: direct
                                 - mean_dxhat                 // term 2: through mu
                                 - xhat * mean_dxhat_xhat);   // term 3: through rstd
    }
  }
}

// dw = sum over rows of g * xhat, db = sum over rows of g (either may be null).
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

// y = (x - mean) * rstd * w + b per channel.
template <class T>
void channel_affine(const T* x, const T* mean, const T* rstd, const T* w, const T* b, T* y, int64_t M, int64_t C) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < C; ++c)
      y[m * C + c] = (x[m * C + c] - mean[c]) * rstd[c] * (w ? w[c] : T(1)) + (b ? b[c] : T(0));
}

// With sum_g = sum_m g and sum_gx = sum_m g * xhat per channel:
//   training: dx = rstd w (g - sum_g / M - xhat sum_gx / M)   (terms 1, 2, 3 of layer_norm)
//   eval:     dx = rstd w g                                    (the affine op's only term)
//   dw = sum_gx, db = sum_g.  dx, dw, db may be null.
template <class T>
void batch_norm_backward(const T* x, const T* w, const T* mean, const T* rstd, const T* g, T* dx, T* dw, T* db,
                         int64_t M, int64_t C, bool through_stats) {
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
      dx[m * C + c] = rstd[c] * (w ? w[c] : T(1)) * (g[m * C + c]     // term 1: direct
                                                     - mean_g         // term 2: through the batch mean
                                                     - xhat * mean_gx);  // term 3: through the batch rstd
    }
}

// running = (1 - m) running + m stat, in place (any stride), under no-grad.
template <class T>
void update_running(const Tensor& running, const std::vector<double>& stat, double momentum) {
  NoGradGuard no_grad;
  T* p = running.data<T>();
  const int64_t st = running.strides()[0];
  for (size_t c = 0; c < stat.size(); ++c)
    p[c * st] = static_cast<T>((1 - momentum) * p[c * st] + momentum * stat[c]);
}

// ---------------------------------------------------------------------------
// dropout: y = x * keep * scale over contiguous buffers.

template <class T>
void apply_keep(const T* x, const uint8_t* keep, T* y, int64_t n, T scale) {
  for (int64_t i = 0; i < n; ++i) y[i] = keep[i] ? x[i] * scale : T(0);
}

Tensor keep_scaled(const char* op, const Tensor& x, const Tensor& keep, double scale) {
  Tensor xc = x.detach().contiguous();
  Tensor y = empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    apply_keep(xc.data<T>(), keep.data<uint8_t>(), y.data<T>(), x.numel(), static_cast<T>(scale));
    return 0;
  });
  return y;
}

// ---------------------------------------------------------------------------
// batch_norm's autograd wrappers.

struct BatchNormSaved {
  Tensor x, weight, mean, rstd;  // x: contiguous (M, C) values; mean, rstd: (C)
  int64_t M, C;
  bool has_bias, through_stats;
};

Tensor batch_norm_record(Tensor y, const Tensor& x, const Tensor& weight, const Tensor& bias, BatchNormSaved s) {
  return record("batch_norm", y, {x, weight, bias}, [s](const Tensor& g, const std::vector<bool>& need) {
    Tensor gc = g.contiguous();
    std::vector<Tensor> grads(3);
    if (need[0]) grads[0] = empty(s.x.shape(), g.dtype());
    if (need[1]) grads[1] = empty({s.C}, g.dtype());
    if (need[2] && s.has_bias) grads[2] = empty({s.C}, g.dtype());
    dispatch_float(g.dtype(), "batch_norm_backward", [&](auto tag) {
      using T = decltype(tag);
      auto out = [](const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
      batch_norm_backward(s.x.data<T>(), data_or_null<T>(s.weight), s.mean.data<T>(), s.rstd.data<T>(),
                          gc.data<T>(), out(grads[0]), out(grads[1]), out(grads[2]), s.M, s.C, s.through_stats);
      return 0;
    });
    return grads;
  });
}

void check_batch_norm_args(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                           const Tensor& running_var, bool training, double momentum) {
  const char* op = "batch_norm";
  check_float(op, "x", x);
  if (x.dim() < 1 || x.numel() == 0)
    fail(fmt::format("batch_norm: input of shape {} has no channel dim or no elements", shape_str(x.shape())));
  const int64_t C = x.size(-1);
  check_vector(op, "weight", weight, x, C);
  check_vector(op, "bias", bias, x, C);
  check_vector(op, "running_mean", running_mean, x, C);
  check_vector(op, "running_var", running_var, x, C);
  if (running_mean.defined() != running_var.defined())
    fail("batch_norm: running_mean and running_var must be both defined or both undefined");
  if (!training && !running_mean.defined())
    fail(fmt::format("batch_norm: eval mode needs running_mean and running_var (input of shape {})",
                     shape_str(x.shape())));
  if (training && x.numel() / C < 2)
    fail(fmt::format("batch_norm: training needs more than one value per channel, got input of shape {}",
                     shape_str(x.shape())));
  if (!(momentum >= 0 && momentum <= 1)) fail(fmt::format("batch_norm: momentum must be in [0, 1], got {}", momentum));
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_family("softmax", x, dim, false); }

Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_family("log_softmax", x, dim, true); }

Tensor cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index) {
  const char* op = "cross_entropy";
  check_float(op, "logits", logits);
  check_defined(op, "target", target);
  check_cpu(op, target);
  check_dim(op, "logits", logits, 2);
  check_dtype(op, "target", target, DType::Int64);
  const int64_t N = logits.size(0), C = logits.size(1);
  if (target.dim() != 1 || target.size(0) != N)
    fail(fmt::format("cross_entropy: target of shape {} does not match logits of shape {} (expected [{}])",
                     shape_str(target.shape()), shape_str(logits.shape()), N));
  Tensor zc = logits.detach().contiguous(), tc = target.detach().contiguous();
  check_targets(tc, C, ignore_index);
  int64_t counted = 0;
  for (int64_t i = 0; i < N; ++i) counted += tc.data<int64_t>()[i] != ignore_index;
  Tensor lse = empty({N}, logits.dtype()), loss = empty({}, logits.dtype());
  dispatch_float(logits.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    double total = cross_entropy_forward(zc.data<T>(), tc.data<int64_t>(), lse.data<T>(), N, C, ignore_index);
    loss.data<T>()[0] = static_cast<T>(counted ? total / static_cast<double>(counted) : 0.0);
    return 0;
  });
  if (!any_requires_grad({&logits})) return loss;
  return record(op, loss, {logits}, [zc, tc, lse, counted, ignore_index](const Tensor& g, const std::vector<bool>&) {
    Tensor dz = empty(zc.shape(), zc.dtype());
    dispatch_float(zc.dtype(), "cross_entropy_backward", [&](auto tag) {
      using T = decltype(tag);
      const T scale = counted ? static_cast<T>(g.item() / static_cast<double>(counted)) : T(0);
      cross_entropy_backward(zc.data<T>(), tc.data<int64_t>(), lse.data<T>(), dz.data<T>(), zc.size(0), zc.size(1),
                             ignore_index, scale);
      return 0;
    });
    return std::vector<Tensor>{dz};
  });
}

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  check_float(op, "x", x);
  if (x.dim() < 1) fail("layer_norm: input must have at least 1 dim, got a scalar");
  const int64_t D = x.size(-1), R = D ? x.numel() / D : 0;
  check_vector(op, "weight", weight, x, D);
  check_vector(op, "bias", bias, x, D);
  Tensor xc = x.detach().contiguous(), wc = contiguous_or_undefined(weight), bc = contiguous_or_undefined(bias);
  Tensor y = empty(x.shape(), x.dtype()), mean = empty({R}, x.dtype()), rstd = empty({R}, x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    layer_norm_forward(xc.data<T>(), data_or_null<T>(wc), data_or_null<T>(bc), y.data<T>(), mean.data<T>(),
                       rstd.data<T>(), R, D, eps);
    return 0;
  });
  if (!any_requires_grad({&x, &weight, &bias})) return y;
  return record(op, y, {x, weight, bias}, [xc, wc, mean, rstd, R, D](const Tensor& g, const std::vector<bool>& need) {
    Tensor gc = g.contiguous();
    std::vector<Tensor> grads(3);
    if (need[0]) grads[0] = empty(xc.shape(), g.dtype());
    if (need[1]) grads[1] = empty({D}, g.dtype());
    if (need[2]) grads[2] = empty({D}, g.dtype());
    dispatch_float(g.dtype(), "layer_norm_backward", [&](auto tag) {
      using T = decltype(tag);
      const T *px = xc.data<T>(), *pm = mean.data<T>(), *pr = rstd.data<T>(), *pg = gc.data<T>();
      if (need[0]) layer_norm_backward_dx(px, data_or_null<T>(wc), pm, pr, pg, grads[0].data<T>(), R, D);
      if (need[1] || need[2])
        layer_norm_backward_params(px, pm, pr, pg, need[1] ? grads[1].data<T>() : nullptr,
                                   need[2] ? grads[2].data<T>() : nullptr, R, D);
      return 0;
    });
    return grads;
  });
}

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  check_batch_norm_args(x, weight, bias, running_mean, running_var, training, momentum);
  const int64_t C = x.size(-1), M = x.numel() / C;
  Tensor xc = x.detach().contiguous(), wc = contiguous_or_undefined(weight), bc = contiguous_or_undefined(bias);
  Tensor mean = empty({C}, x.dtype()), rstd = empty({C}, x.dtype()), y = empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    std::vector<double> mu, var;
    if (training) {
      batch_stats(xc.data<T>(), M, C, mu, var);
    } else {
      mu = running_mean.to_vector();
      var = running_var.to_vector();
    }
    for (int64_t c = 0; c < C; ++c) {
      mean.data<T>()[c] = static_cast<T>(mu[c]);
      rstd.data<T>()[c] = static_cast<T>(1.0 / std::sqrt(var[c] + eps));
    }
    channel_affine(xc.data<T>(), mean.data<T>(), rstd.data<T>(), data_or_null<T>(wc), data_or_null<T>(bc),
                   y.data<T>(), M, C);
    if (training && running_mean.defined()) {
      for (double& v : var) v *= static_cast<double>(M) / static_cast<double>(M - 1);  // unbiased
      update_running<T>(running_mean, mu, momentum);
      update_running<T>(running_var, var, momentum);
    }
    return 0;
  });
  if (!any_requires_grad({&x, &weight, &bias})) return y;
  return batch_norm_record(y, x, weight, bias, BatchNormSaved{xc, wc, mean, rstd, M, C, bias.defined(), training});
}

Tensor embedding(const Tensor& weight, const Tensor& index) {
  const char* op = "embedding";
  check_float(op, "weight", weight);
  check_dim(op, "weight", weight, 2);
  check_defined(op, "index", index);
  check_cpu(op, index);
  check_dtype(op, "index", index, DType::Int64);
  const int64_t V = weight.size(0), D = weight.size(1), n = index.numel();
  Tensor wc = weight.detach().contiguous(), ic = index.detach().contiguous();
  const int64_t* pi = ic.data<int64_t>();
  for (int64_t i = 0; i < n; ++i)
    if (pi[i] < 0 || pi[i] >= V)
      fail(fmt::format("embedding: index {} out of range for dim 0 of size {} (weight of shape {})", pi[i], V,
                       shape_str(weight.shape())));
  Shape os = index.shape();
  os.push_back(D);
  Tensor y = empty(os, weight.dtype());
  dispatch_float(weight.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < n; ++i) std::copy_n(wc.data<T>() + pi[i] * D, D, y.data<T>() + i * D);
    return 0;
  });
  if (!any_requires_grad({&weight})) return y;
  return record(op, y, {weight}, [ic, V, D](const Tensor& g, const std::vector<bool>&) {
    Tensor gc = g.contiguous(), dw = zeros({V, D}, g.dtype());
    dispatch_float(g.dtype(), "embedding_backward", [&](auto tag) {
      using T = decltype(tag);
      const int64_t* pi = ic.data<int64_t>();
      const T* pg = gc.data<T>();
      T* pw = dw.data<T>();
      for (int64_t i = 0; i < ic.numel(); ++i)  // dW[idx[i]] += g[i]
        for (int64_t j = 0; j < D; ++j) pw[pi[i] * D + j] += pg[i * D + j];
      return 0;
    });
    return std::vector<Tensor>{dw};
  });
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  const char* op = "dropout";
  check_float(op, "x", x);
  if (!(p >= 0.0 && p < 1.0))
    fail(fmt::format("dropout: p must be in [0, 1), got {} (input of shape {})", p, shape_str(x.shape())));
  if (!training || p == 0.0) return x;
  Tensor keep = empty(x.shape(), DType::UInt8);
  uint8_t* pk = keep.data<uint8_t>();
  for (int64_t i = 0; i < keep.numel(); ++i) pk[i] = gen.next_double() >= p;
  const double scale = 1.0 / (1.0 - p);
  Tensor y = keep_scaled(op, x, keep, scale);
  return record(op, y, {x}, [keep, scale](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{keep_scaled("dropout_backward", g, keep, scale)};
  });
}

}  // namespace seqboat
