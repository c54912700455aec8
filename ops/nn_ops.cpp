// ops/nn_ops.cpp: the fused neural-network ops of ops/nn_ops.h (formulas
// there, term by term). Each op checks its arguments, allocates outputs and
// saved tensors on the input's device, runs its forward kernel and records
// the backward kernel (cpu/nn_ops.cpp on the CPU).
#include "ops/nn_ops.h"

#include <limits>

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"
#include "ops/shape.h"

namespace seqboat {

namespace {

// An optional per-feature parameter (weight, bias, running stat): undefined,
// or a 1-d tensor of `n` elements with x's dtype and device.
void check_vector(const char* op, const char* arg, const Tensor& t, const Tensor& x, int64_t n) {
  if (!t.defined()) return;
  check_same_dtype(op, x, t);
  common_device(op, {&x, &t});
  if (t.dim() != 1 || t.size(0) != n)
    fail(fmt::format("{}: {} must have shape [{}] for input of shape {}, got {}", op, arg, n, shape_str(x.shape()),
                     shape_str(t.shape())));
}

// Typed device pointer, or nullptr for an undefined tensor.
template <class T>
T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.ptr<T>() : nullptr;
}

Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? t.detach().contiguous() : Tensor(); }

kernels::Lines lines_around(const Shape& s, int64_t d) {
  kernels::Lines l;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) {
    if (i < d) l.outer *= s[i];
    else if (i > d) l.inner *= s[i];
  }
  l.n = s[d];
  return l;
}

Tensor softmax_family(const char* op, const Tensor& x, int64_t dim, bool log) {
  check_float(op, "x", x);
  const int64_t d = normalize_dim(op, dim, x.dim());
  const kernels::Lines l = lines_around(x.shape(), d);
  Tensor xc = x.detach().contiguous();
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, x.device(), T, softmax_forward)(l, log, xc.ptr<T>(), y.ptr<T>());
  });
  if (!any_requires_grad({&x})) return y;
  Tensor ys = y.detach();
  return record(op, y, {x}, [ys, l, log](const Tensor& g, const std::vector<bool>&) {
    const char* bop = log ? "log_softmax_backward" : "softmax_backward";
    Tensor gc = g.contiguous();
    Tensor dx = empty(ys.shape(), ys.dtype(), ys.device());
    dispatch_float(ys.dtype(), bop, [&](auto tag) {
      using T = decltype(tag);
      SEQBOAT_KERNEL(bop, ys.device(), T, softmax_backward)(l, log, ys.ptr<T>(), gc.ptr<T>(), dx.ptr<T>());
    });
    return std::vector<Tensor>{dx};
  });
}

// Every index in [0, size) (or == ignore); the message names the value, its
// position and the rule.
void check_indices(const char* op, const Tensor& index, int64_t size, int64_t ignore, const std::string& what) {
  const int64_t bad = SEQBOAT_UNTYPED_KERNEL(op, index.device(), first_out_of_range)(
      index.numel(), index.ptr<int64_t>(), size, ignore);
  if (bad < 0) return;
  const int64_t value = static_cast<int64_t>(index.reshape({-1}).at({bad}));
  fail(fmt::format(fmt::runtime(what), value, bad));
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

// What batch_norm's backward needs.
struct BatchNormSaved {
  Tensor x, weight, mean, rstd;  // x: contiguous (M, C) values; mean, rstd: (C)
  int64_t M, C;
  bool has_bias, through_stats;
};

Tensor apply_keep(const char* op, const Tensor& x, const Tensor& keep, double scale) {
  Tensor xc = x.detach().contiguous();
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, x.device(), T, apply_keep)
    (x.numel(), xc.ptr<T>(), keep.ptr<uint8_t>(), static_cast<T>(scale), y.ptr<T>());
  });
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_family("softmax", x, dim, false); }

Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_family("log_softmax", x, dim, true); }

Tensor cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index) {
  const char* op = "cross_entropy";
  check_float(op, "logits", logits);
  check_defined(op, "target", target);
  const Device dev = common_device(op, {&logits, &target});
  check_dim(op, "logits", logits, 2);
  check_dtype(op, "target", target, DType::Int64);
  const int64_t N = logits.size(0), C = logits.size(1);
  if (target.dim() != 1 || target.size(0) != N)
    fail(fmt::format("cross_entropy: target of shape {} does not match logits of shape {} (expected [{}])",
                     shape_str(target.shape()), shape_str(logits.shape()), N));
  Tensor zc = logits.detach().contiguous(), tc = target.detach().contiguous();
  check_indices(op, tc, C, ignore_index,
                fmt::format("cross_entropy: target {{}} at row {{}} out of range for {} classes (ignore_index {})", C,
                            ignore_index));
  Tensor lse = empty({N}, logits.dtype(), dev), loss = empty({}, logits.dtype(), dev);
  dispatch_float(logits.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, cross_entropy_forward)
    (N, C, ignore_index, zc.ptr<T>(), tc.ptr<int64_t>(), lse.ptr<T>(), loss.ptr<T>());
  });
  if (!any_requires_grad({&logits})) return loss;
  return record(op, loss, {logits}, [zc, tc, lse, ignore_index](const Tensor& g, const std::vector<bool>&) {
    const char* bop = "cross_entropy_backward";
    Tensor gc = g.contiguous();
    Tensor dz = empty(zc.shape(), zc.dtype(), zc.device());
    dispatch_float(zc.dtype(), bop, [&](auto tag) {
      using T = decltype(tag);
      SEQBOAT_KERNEL(bop, zc.device(), T, cross_entropy_backward)
      (zc.size(0), zc.size(1), ignore_index, zc.ptr<T>(), tc.ptr<int64_t>(), lse.ptr<T>(), gc.ptr<T>(), dz.ptr<T>());
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
  const Device dev = x.device();
  Tensor xc = x.detach().contiguous(), wc = contiguous_or_undefined(weight), bc = contiguous_or_undefined(bias);
  Tensor y = empty(x.shape(), x.dtype(), dev), mean = empty({R}, x.dtype(), dev), rstd = empty({R}, x.dtype(), dev);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, layer_norm_forward)
    (R, D, eps, xc.ptr<T>(), ptr_or_null<T>(wc), ptr_or_null<T>(bc), y.ptr<T>(), mean.ptr<T>(), rstd.ptr<T>());
  });
  if (!any_requires_grad({&x, &weight, &bias})) return y;
  return record(op, y, {x, weight, bias}, [xc, wc, mean, rstd, R, D](const Tensor& g, const std::vector<bool>& need) {
    const char* bop = "layer_norm_backward";
    Tensor gc = g.contiguous();
    std::vector<Tensor> grads(3);
    if (need[0]) grads[0] = empty(xc.shape(), g.dtype(), g.device());
    if (need[1]) grads[1] = empty({D}, g.dtype(), g.device());
    if (need[2]) grads[2] = empty({D}, g.dtype(), g.device());
    dispatch_float(g.dtype(), bop, [&](auto tag) {
      using T = decltype(tag);
      SEQBOAT_KERNEL(bop, g.device(), T, layer_norm_backward)
      (R, D, xc.ptr<T>(), ptr_or_null<T>(wc), mean.ptr<T>(), rstd.ptr<T>(), gc.ptr<T>(), ptr_or_null<T>(grads[0]),
       ptr_or_null<T>(grads[1]), ptr_or_null<T>(grads[2]));
    });
    return grads;
  });
}

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  check_batch_norm_args(x, weight, bias, running_mean, running_var, training, momentum);
  const Device dev = x.device();
  kernels::BatchNormArgs args;
  args.C = x.size(-1);
  args.M = x.numel() / args.C;
  args.training = training;
  args.momentum = momentum;
  args.eps = eps;
  if (running_mean.defined()) {
    args.mean_stride = running_mean.strides()[0];
    args.var_stride = running_var.strides()[0];
  }
  Tensor xc = x.detach().contiguous(), wc = contiguous_or_undefined(weight), bc = contiguous_or_undefined(bias);
  Tensor mean = empty({args.C}, x.dtype(), dev), rstd = empty({args.C}, x.dtype(), dev);
  Tensor y = empty(x.shape(), x.dtype(), dev);
  {
    NoGradGuard no_grad;  // the running statistics are buffers, updated in place
    dispatch_float(x.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      SEQBOAT_KERNEL(op, dev, T, batch_norm_forward)
      (args, xc.ptr<T>(), ptr_or_null<T>(wc), ptr_or_null<T>(bc), ptr_or_null<T>(running_mean),
       ptr_or_null<T>(running_var), y.ptr<T>(), mean.ptr<T>(), rstd.ptr<T>());
    });
  }
  if (!any_requires_grad({&x, &weight, &bias})) return y;
  BatchNormSaved s{xc, wc, mean, rstd, args.M, args.C, bias.defined(), training};
  return record(op, y, {x, weight, bias}, [s](const Tensor& g, const std::vector<bool>& need) {
    const char* bop = "batch_norm_backward";
    Tensor gc = g.contiguous();
    std::vector<Tensor> grads(3);
    if (need[0]) grads[0] = empty(s.x.shape(), g.dtype(), g.device());
    if (need[1]) grads[1] = empty({s.C}, g.dtype(), g.device());
    if (need[2] && s.has_bias) grads[2] = empty({s.C}, g.dtype(), g.device());
    dispatch_float(g.dtype(), bop, [&](auto tag) {
      using T = decltype(tag);
      SEQBOAT_KERNEL(bop, g.device(), T, batch_norm_backward)
      (s.M, s.C, s.through_stats, s.x.ptr<T>(), ptr_or_null<T>(s.weight), s.mean.ptr<T>(), s.rstd.ptr<T>(), gc.ptr<T>(),
       ptr_or_null<T>(grads[0]), ptr_or_null<T>(grads[1]), ptr_or_null<T>(grads[2]));
    });
    return grads;
  });
}

Tensor embedding(const Tensor& weight, const Tensor& index) {
  const char* op = "embedding";
  check_float(op, "weight", weight);
  check_dim(op, "weight", weight, 2);
  check_defined(op, "index", index);
  const Device dev = common_device(op, {&weight, &index});
  check_dtype(op, "index", index, DType::Int64);
  const int64_t V = weight.size(0), D = weight.size(1), n = index.numel();
  Tensor wc = weight.detach().contiguous(), ic = index.detach().contiguous();
  check_indices(op, ic, V, std::numeric_limits<int64_t>::min(),
                fmt::format("embedding: index {{}} out of range for dim 0 of size {} (weight of shape {})", V,
                            shape_str(weight.shape())) +
                    " at position {}");
  Shape os = index.shape();
  os.push_back(D);
  Tensor y = empty(os, weight.dtype(), dev);
  dispatch_float(weight.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, embedding_forward)(n, D, ic.ptr<int64_t>(), wc.ptr<T>(), y.ptr<T>());
  });
  if (!any_requires_grad({&weight})) return y;
  return record(op, y, {weight}, [ic, V, D](const Tensor& g, const std::vector<bool>&) {
    const char* bop = "embedding_backward";
    Tensor gc = g.contiguous(), dw = empty({V, D}, g.dtype(), g.device());
    dispatch_float(g.dtype(), bop, [&](auto tag) {
      using T = decltype(tag);
      SEQBOAT_KERNEL(bop, g.device(), T, embedding_backward)
      (ic.numel(), V, D, ic.ptr<int64_t>(), gc.ptr<T>(), dw.ptr<T>());
    });
    return std::vector<Tensor>{dw};
  });
}

Tensor dropout(const Tensor& x, double p, bool training, DropoutRng& rng) {
  const char* op = "dropout";
  check_float(op, "x", x);
  if (!(p >= 0.0 && p < 1.0))
    fail(fmt::format("dropout: p must be in [0, 1), got {} (input of shape {})", p, shape_str(x.shape())));
  if (!training || p == 0.0) return x;
  Tensor keep = empty(x.shape(), DType::UInt8, x.device());
  // A rank holding rows r0.. of the batch draws the elements those rows have
  // in the whole batch: row r0 starts at element r0 * (elements per row). A
  // rank's share of a pair batch is two blocks of rows, drawn one by one
  // from the same dropout call.
  const uint64_t per_row = x.dim() > 0 && x.size(0) > 0 ? static_cast<uint64_t>(x.numel() / x.size(0)) : 0;
  const uint64_t call = rng.take_offset();
  const uint64_t rows1 = rng.rows_in_first_block;
  if (rows1 > 0 && (x.dim() == 0 || static_cast<uint64_t>(x.size(0)) != 2 * rows1))
    throw std::logic_error(fmt::format("dropout: a pair batch's share of {} rows per block, but the input has shape {}",
                                       rows1, shape_str(x.shape())));
  const int64_t n1 = rows1 > 0 ? static_cast<int64_t>(rows1 * per_row) : keep.numel();
  SEQBOAT_UNTYPED_KERNEL(op, x.device(), dropout_mask)
  (rng.seed, call, rng.row_offset * per_row, p, n1, keep.ptr<uint8_t>());
  if (rows1 > 0) {
    SEQBOAT_UNTYPED_KERNEL(op, x.device(), dropout_mask)
    (rng.seed, call, rng.second_row_offset * per_row, p, keep.numel() - n1, keep.ptr<uint8_t>() + n1);
  }
  const double scale = 1.0 / (1.0 - p);
  Tensor y = apply_keep(op, x, keep, scale);
  return record(op, y, {x}, [keep, scale](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{apply_keep("dropout_backward", g, keep, scale)};
  });
}

}  // namespace seqboat
