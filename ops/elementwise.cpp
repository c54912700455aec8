// ops/elementwise.cpp: pointwise ops and the mask-driven selections where /
// masked_fill (formulas in ops/elementwise.h). Each op checks its arguments,
// allocates the output on the inputs' device and records the backward; the
// arithmetic is the elementwise family's kernels (kernels/elementwise.h).
#include "ops/elementwise.h"

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace seqboat {

using kernels::BinaryOp;
using kernels::CompareOp;
using kernels::UnaryOp;

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(fmt::format("{}: shapes {} and {} cannot be broadcast together", op, shape_str(a), shape_str(b)));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

// out = a op b with broadcasting (floating a, b of one dtype and device).
Tensor float_binary(const char* op, BinaryOp kind, const Tensor& a, const Tensor& b) {
  check_defined(op, "a", a);
  check_defined(op, "b", b);
  const Device dev = common_device(op, {&a, &b});
  check_same_dtype(op, a, b);
  const Shape out_shape = broadcast_shapes(op, a.shape(), b.shape());
  const kernels::StridedShape shape = strided_shape(op, out_shape);
  const kernels::Strides sa = broadcast_strides(a, out_shape), sb = broadcast_strides(b, out_shape);
  Tensor out = empty(out_shape, a.dtype(), dev);
  dispatch_float(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, binary)(kind, shape, sa, a.ptr<T>(), sb, b.ptr<T>(), out.ptr<T>());
  });
  return out;
}

// y = f(x) over a contiguous copy of x (not recorded).
Tensor float_unary(const char* op, UnaryOp kind, double scalar, const Tensor& x) {
  check_defined(op, "x", x);
  Tensor xc = x.detach().contiguous();
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, x.device(), T, unary)(kind, scalar, x.numel(), xc.ptr<T>(), out.ptr<T>());
  });
  return out;
}

// A differentiable unary op whose backward is the `unary_backward` kernel:
// dx = g f'(x), given x and y = f(x).
Tensor nonlinear_unary(const char* op, UnaryOp kind, const Tensor& x, double scalar = 0) {
  check_defined(op, "x", x);
  Tensor xc = x.detach().contiguous();
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, x.device(), T, unary)(kind, scalar, x.numel(), xc.ptr<T>(), y.ptr<T>());
  });
  if (!any_requires_grad({&x})) return y;
  Tensor ys = y.detach();
  return record(op, y, {x}, [op, kind, scalar, xc, ys](const Tensor& g, const std::vector<bool>&) {
    Tensor gc = g.contiguous();
    Tensor dx = empty(xc.shape(), xc.dtype(), xc.device());
    dispatch_float(xc.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      SEQBOAT_KERNEL(op, xc.device(), T, unary_backward)
      (kind, scalar, xc.numel(), xc.ptr<T>(), ys.ptr<T>(), gc.ptr<T>(), dx.ptr<T>());
    });
    return std::vector<Tensor>{dx};
  });
}

// A defined tensor of dtype dt.
void check_typed(const char* op, const char* arg, const Tensor& t, DType dt) {
  check_defined(op, arg, t);
  check_dtype(op, arg, t, dt);
}

// r = g where (mask != 0) == keep, 0 elsewhere; mask broadcast to g's shape.
Tensor mask_grad(const char* op, const Tensor& g, const Tensor& mask, bool keep) {
  Tensor r = empty(g.shape(), g.dtype(), g.device());
  dispatch_float(g.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, g.device(), T, masked_fill)
    (strided_shape(op, g.shape()), strides_of(g.strides()), g.ptr<T>(), broadcast_strides(mask, g.shape()),
     mask.ptr<uint8_t>(),
     /*fill_where_set=*/!keep, T(0), r.ptr<T>());
  });
  return r;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = float_binary("add", BinaryOp::Add, a, b);
  Shape sa = a.shape(), sb = b.shape();
  return record("add", y, {a, b}, [sa, sb](const Tensor& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(g, sa) : Tensor(), need[1] ? sum_to(g, sb) : Tensor()};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = float_binary("sub", BinaryOp::Sub, a, b);
  Shape sa = a.shape(), sb = b.shape();
  return record("sub", y, {a, b}, [sa, sb](const Tensor& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(g, sa) : Tensor(), need[1] ? sum_to(neg(g), sb) : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = float_binary("mul", BinaryOp::Mul, a, b);
  if (!any_requires_grad({&a, &b})) return y;
  Tensor as = a.detach(), bs = b.detach();
  return record("mul", y, {a, b}, [as, bs](const Tensor& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(mul(g, bs), as.shape()) : Tensor(),
                               need[1] ? sum_to(mul(g, as), bs.shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = float_binary("div", BinaryOp::Div, a, b);
  if (!any_requires_grad({&a, &b})) return y;
  Tensor as = a.detach(), bs = b.detach(), ys = y.detach();
  return record("div", y, {a, b}, [as, bs, ys](const Tensor& g, const std::vector<bool>& need) {
    Tensor ga = div(g, bs);  // d/da (a/b) = 1/b
    return std::vector<Tensor>{need[0] ? sum_to(ga, as.shape()) : Tensor(),
                               need[1] ? sum_to(neg(mul(ga, ys)), bs.shape()) : Tensor()};  // d/db = -a/b^2 = -y/b
  });
}

Tensor add_scalar(const Tensor& x, double s) {
  Tensor y = float_unary("add_scalar", UnaryOp::AddScalar, s, x);
  return record("add_scalar", y, {x}, [](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{g}; });
}

Tensor mul_scalar(const Tensor& x, double s) {
  Tensor y = float_unary("mul_scalar", UnaryOp::MulScalar, s, x);
  return record("mul_scalar", y, {x},
                [s](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{mul_scalar(g, s)}; });
}

Tensor neg(const Tensor& x) {
  Tensor y = float_unary("neg", UnaryOp::Neg, 0, x);
  return record("neg", y, {x}, [](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{neg(g)}; });
}

Tensor exp(const Tensor& x) { return nonlinear_unary("exp", UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return nonlinear_unary("log", UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return nonlinear_unary("sqrt", UnaryOp::Sqrt, x); }
Tensor pow(const Tensor& x, double p) { return nonlinear_unary("pow", UnaryOp::Pow, x, p); }
Tensor square(const Tensor& x) { return nonlinear_unary("square", UnaryOp::Square, x); }
Tensor sigmoid(const Tensor& x) { return nonlinear_unary("sigmoid", UnaryOp::Sigmoid, x); }
Tensor silu(const Tensor& x) { return nonlinear_unary("silu", UnaryOp::Silu, x); }
Tensor relu(const Tensor& x) { return nonlinear_unary("relu", UnaryOp::Relu, x); }  // relu'(0) := 0
Tensor tanh(const Tensor& x) { return nonlinear_unary("tanh", UnaryOp::Tanh, x); }

// ---- comparisons ----

static Tensor compare(const char* op, CompareOp kind, const Tensor& a, const Tensor& b) {
  check_defined(op, "a", a);
  check_defined(op, "b", b);
  const Device dev = common_device(op, {&a, &b});
  check_same_dtype(op, a, b);
  const Shape out_shape = broadcast_shapes(op, a.shape(), b.shape());
  const kernels::StridedShape shape = strided_shape(op, out_shape);
  const kernels::Strides sa = broadcast_strides(a, out_shape), sb = broadcast_strides(b, out_shape);
  Tensor out = empty(out_shape, DType::UInt8, dev);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, compare)(kind, shape, sa, a.ptr<T>(), sb, b.ptr<T>(), out.ptr<uint8_t>());
  };
  switch (a.dtype()) {
    case DType::Float32: run(float{}); break;
    case DType::Float64: run(double{}); break;
    case DType::Int64: run(int64_t{}); break;
    case DType::UInt8: run(uint8_t{}); break;
  }
  return out;
}

Tensor gt(const Tensor& a, const Tensor& b) { return compare("gt", CompareOp::Gt, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare("lt", CompareOp::Lt, a, b); }
Tensor eq(const Tensor& a, const Tensor& b) { return compare("eq", CompareOp::Eq, a, b); }

Tensor logical_not(const Tensor& mask) {
  const char* op = "logical_not";
  check_defined(op, "mask", mask);
  check_dtype(op, "mask", mask, DType::UInt8);
  Tensor m = mask.contiguous();
  Tensor out = empty(mask.shape(), DType::UInt8, mask.device());
  SEQBOAT_UNTYPED_KERNEL(op, mask.device(), logical_not)(out.numel(), m.ptr<uint8_t>(), out.ptr<uint8_t>());
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const char* op = "where";
  check_typed(op, "cond", cond, DType::UInt8);
  check_float(op, "a", a);
  check_float(op, "b", b);
  check_same_dtype(op, a, b);
  const Device dev = common_device(op, {&cond, &a, &b});
  const Shape os = broadcast_shapes(op, broadcast_shapes(op, cond.shape(), a.shape()), b.shape());
  Tensor out = empty(os, a.dtype(), dev);
  dispatch_float(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, where)
    (strided_shape(op, os), broadcast_strides(cond, os), cond.ptr<uint8_t>(), broadcast_strides(a, os), a.ptr<T>(),
     broadcast_strides(b, os), b.ptr<T>(), out.ptr<T>());
  });
  if (!any_requires_grad({&a, &b})) return out;
  Tensor c = cond.detach();
  Shape sa = a.shape(), sb = b.shape();
  return record(op, out, {a, b}, [c, sa, sb](const Tensor& g, const std::vector<bool>& need) {
    Tensor ga = need[0] ? sum_to(mask_grad("where_backward", g, c, true), sa) : Tensor();
    Tensor gb = need[1] ? sum_to(mask_grad("where_backward", g, c, false), sb) : Tensor();
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  const char* op = "masked_fill";
  check_float(op, "x", x);
  check_typed(op, "mask", mask, DType::UInt8);
  if (broadcast_shapes(op, x.shape(), mask.shape()) != x.shape())
    fail(fmt::format("masked_fill: mask of shape {} does not broadcast to x of shape {}", shape_str(mask.shape()),
                     shape_str(x.shape())));
  const Device dev = common_device(op, {&x, &mask});
  Tensor out = empty(x.shape(), x.dtype(), dev);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, masked_fill)
    (strided_shape(op, x.shape()), strides_of(x.strides()), x.ptr<T>(), broadcast_strides(mask, x.shape()),
     mask.ptr<uint8_t>(),
     /*fill_where_set=*/true, static_cast<T>(value), out.ptr<T>());
  });
  if (!any_requires_grad({&x})) return out;
  Tensor m = mask.detach();
  return record(op, out, {x}, [m](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{mask_grad("masked_fill_backward", g, m, false)};
  });
}

}  // namespace seqboat
