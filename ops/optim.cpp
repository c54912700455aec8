// ops/optim.cpp: see ops/optim.h.
#include "ops/optim.h"

#include "ops/checks.h"
#include "ops/dispatch.h"

namespace seqboat {

namespace {

// t is a defined, contiguous floating tensor of like's dtype, shape and device.
void check_like(const char* op, const char* arg, const Tensor& t, const Tensor& like) {
  check_float(op, arg, t);
  check_same_dtype(op, t, like);
  common_device(op, {&like, &t});
  if (t.shape() != like.shape() || !t.is_contiguous())
    fail(fmt::format("{}: {} must be contiguous with shape {}, got shape {}", op, arg, shape_str(like.shape()),
                     shape_str(t.shape())));
}

}  // namespace

void adamw_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const AdamScalars& s) {
  const char* op = "adamw_step";
  check_like(op, "parameter", p, p);
  check_like(op, "gradient", g, p);
  check_like(op, "exp_avg", m, p);
  check_like(op, "exp_avg_sq", v, p);
  dispatch_float(p.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, p.device(), T, adamw_step)(p.numel(), s, p.ptr<T>(), g.ptr<T>(), m.ptr<T>(), v.ptr<T>());
  });
}

void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, const SgdScalars& s) {
  const char* op = "sgd_step";
  check_like(op, "parameter", p, p);
  check_like(op, "gradient", g, p);
  if (buf.defined()) check_like(op, "momentum_buffer", buf, p);
  dispatch_float(p.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, p.device(), T, sgd_step)
    (p.numel(), s, p.ptr<T>(), g.ptr<T>(), buf.defined() ? buf.ptr<T>() : nullptr);
  });
}

double sum_of_squares(const Tensor& t) {
  const char* op = "sum_of_squares";
  check_like(op, "tensor", t, t);
  return dispatch_float(t.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return SEQBOAT_KERNEL(op, t.device(), T, sum_of_squares)(t.numel(), t.ptr<T>());
  });
}

void scale_(const Tensor& t, double s) {
  const char* op = "scale_inplace";
  check_like(op, "tensor", t, t);
  dispatch_float(t.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, t.device(), T, scale_inplace)(t.numel(), s, t.ptr<T>());
  });
}

bool all_finite(const Tensor& t) {
  const char* op = "all_finite";
  check_like(op, "tensor", t, t);
  return dispatch_float(t.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return SEQBOAT_KERNEL(op, t.device(), T, all_finite)(t.numel(), t.ptr<T>());
  });
}

}  // namespace seqboat
