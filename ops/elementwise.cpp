// ops/elementwise.cpp: pointwise ops (formulas in ops/elementwise.h).
#include "ops/elementwise.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "autograd/autograd.h"
#include "ops/kernel_util.h"
#include "ops/shape.h"

namespace seqboat {

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

// f(lo, hi) over [0, n) in chunks, on all threads when n is large. Only for
// elementwise work: every element is computed the same way whatever the
// thread count, so results do not depend on it.
template <class F>
void for_chunks(int64_t n, F f) {
  constexpr int64_t chunk = 1 << 14;
  const int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n > kParallelWork)
  for (int64_t c = 0; c < chunks; ++c) f(c * chunk, std::min(n, (c + 1) * chunk));
}

// How an operand of a broadcasting binary op lines up with the output, for
// the fast paths below (all need a contiguous operand).
enum class Operand {
  Full,    // same shape as the output
  Scalar,  // one element
  Row,     // the output's trailing dims (repeated over the leading ones), e.g. a bias (D) against (B, L, D)
  Column,  // the output's leading dims with a last dim of 1, e.g. a gate (B, L, 1) against (B, L, D)
  Other,
};

Operand classify_operand(const Tensor& x, const Shape& out) {
  if (!x.is_contiguous()) return Operand::Other;
  if (x.shape() == out) return Operand::Full;
  if (x.numel() == 1) return Operand::Scalar;
  Shape xs = x.shape();
  if (xs.size() > out.size()) return Operand::Other;
  xs.insert(xs.begin(), out.size() - xs.size(), 1);  // align right
  size_t first = 0;
  while (first < xs.size() && xs[first] == 1) ++first;
  if (std::equal(xs.begin() + static_cast<std::ptrdiff_t>(first), xs.end(),
                 out.begin() + static_cast<std::ptrdiff_t>(first)))
    return Operand::Row;
  if (xs.back() == 1 && std::equal(xs.begin(), xs.end() - 1, out.begin())) return Operand::Column;
  return Operand::Other;
}

// out[i] = f(a[i], b[i]) with broadcasting; T is the element type of a and b,
// R of the result. Common broadcasts (scalar, row, column against a full
// operand) take flat loops; anything else walks strided offsets.
template <class T, class R, class F>
Tensor binary_kernel(const Tensor& a, const Tensor& b, const Shape& out_shape, DType out_dtype, F f) {
  Tensor out = empty(out_shape, out_dtype);
  R* po = out.data<R>();
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  const int64_t n = out.numel();
  const Operand ka = classify_operand(a, out_shape), kb = classify_operand(b, out_shape);
  const int64_t last = out_shape.empty() ? 1 : out_shape.back();
  if (ka == Operand::Full && kb == Operand::Full) {
    for_chunks(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], pb[i]);
    });
  } else if (ka == Operand::Full && kb == Operand::Scalar) {
    const T s = pb[0];
    for_chunks(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], s);
    });
  } else if (ka == Operand::Scalar && kb == Operand::Full) {
    const T s = pa[0];
    for_chunks(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(s, pb[i]);
    });
  } else if (n > 0 && ka == Operand::Full && kb == Operand::Row) {
    const int64_t m = b.numel();
#pragma omp parallel for schedule(static) if (n > kParallelWork)
    for (int64_t r = 0; r < n / m; ++r)
      for (int64_t j = 0; j < m; ++j) po[r * m + j] = f(pa[r * m + j], pb[j]);
  } else if (n > 0 && ka == Operand::Row && kb == Operand::Full) {
    const int64_t m = a.numel();
#pragma omp parallel for schedule(static) if (n > kParallelWork)
    for (int64_t r = 0; r < n / m; ++r)
      for (int64_t j = 0; j < m; ++j) po[r * m + j] = f(pa[j], pb[r * m + j]);
  } else if (n > 0 && ka == Operand::Full && kb == Operand::Column) {
#pragma omp parallel for schedule(static) if (n > kParallelWork)
    for (int64_t r = 0; r < n / last; ++r) {
      const T s = pb[r];
      for (int64_t j = 0; j < last; ++j) po[r * last + j] = f(pa[r * last + j], s);
    }
  } else if (n > 0 && ka == Operand::Column && kb == Operand::Full) {
#pragma omp parallel for schedule(static) if (n > kParallelWork)
    for (int64_t r = 0; r < n / last; ++r) {
      const T s = pa[r];
      for (int64_t j = 0; j < last; ++j) po[r * last + j] = f(s, pb[r * last + j]);
    }
  } else {
    std::array<Shape, 3> st{contiguous_strides(out_shape), broadcast_strides(a, out_shape),
                            broadcast_strides(b, out_shape)};
    for_each_offset<3>(out_shape, st, [&](const std::array<int64_t, 3>& o) { po[o[0]] = f(pa[o[1]], pb[o[2]]); });
  }
  return out;
}

template <class F>
Tensor float_binary(const char* op, const Tensor& a, const Tensor& b, F f) {
  check_defined(op, "a", a);
  check_defined(op, "b", b);
  check_cpu(op, a);
  check_cpu(op, b);
  check_same_dtype(op, a, b);
  Shape out_shape = broadcast_shapes(op, a.shape(), b.shape());
  return dispatch_float(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return binary_kernel<T, T>(a, b, out_shape, a.dtype(), [&](T x, T y) { return f(x, y); });
  });
}

// y[i] = f(x[i]) over a contiguous copy of x.
template <class F>
Tensor float_unary(const char* op, const Tensor& x, F f) {
  check_defined(op, "x", x);
  check_cpu(op, x);
  Tensor xc = x.detach().contiguous();
  return dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Tensor out = empty(x.shape(), x.dtype());
    const T* px = xc.data<T>();
    T* po = out.data<T>();
    for_chunks(out.numel(), [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(px[i]);
    });
    return out;
  });
}

// A differentiable unary op whose forward and backward are whole-array
// functions: fwd(x, y, n) and bwd(x, y, g, out, n), all contiguous.
template <class Fwd, class Bwd>
Tensor array_unary_op(const char* op, const Tensor& x, Fwd fwd, Bwd bwd) {
  check_defined(op, "x", x);
  check_cpu(op, x);
  Tensor xc = x.detach().contiguous();
  Tensor y = dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Tensor out = empty(x.shape(), x.dtype());
    const T* px = xc.data<T>();
    T* py = out.data<T>();
    for_chunks(out.numel(), [&](int64_t lo, int64_t hi) { fwd(px + lo, py + lo, hi - lo); });
    return out;
  });
  if (!any_requires_grad({&x})) return y;
  Tensor ys = y.detach();
  return record(op, y, {x}, [op, xc, ys, bwd](const Tensor& g, const std::vector<bool>&) {
    Tensor gc = g.contiguous();
    return std::vector<Tensor>{dispatch_float(xc.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      Tensor out = empty(xc.shape(), xc.dtype());
      const T *px = xc.data<T>(), *py = ys.data<T>(), *pg = gc.data<T>();
      T* po = out.data<T>();
      for_chunks(out.numel(), [&](int64_t lo, int64_t hi) { bwd(px + lo, py + lo, pg + lo, po + lo, hi - lo); });
      return out;
    })};
  });
}

// A differentiable unary op from per-element functions: forward f(x),
// backward df(x, y, g).
template <class F, class DF>
Tensor unary_op(const char* op, const Tensor& x, F f, DF df) {
  return array_unary_op(
      op, x,
      [f](const auto* px, auto* py, int64_t n) {
        for (int64_t i = 0; i < n; ++i) py[i] = f(px[i]);
      },
      [df](const auto* px, const auto* py, const auto* pg, auto* po, int64_t n) {
        for (int64_t i = 0; i < n; ++i) po[i] = df(px[i], py[i], pg[i]);
      });
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = float_binary("add", a, b, [](auto x, auto z) { return x + z; });
  Shape sa = a.shape(), sb = b.shape();
  return record("add", y, {a, b}, [sa, sb](const Tensor& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(g, sa) : Tensor(), need[1] ? sum_to(g, sb) : Tensor()};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = float_binary("sub", a, b, [](auto x, auto z) { return x - z; });
  Shape sa = a.shape(), sb = b.shape();
  return record("sub", y, {a, b}, [sa, sb](const Tensor& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(g, sa) : Tensor(), need[1] ? sum_to(neg(g), sb) : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = float_binary("mul", a, b, [](auto x, auto z) { return x * z; });
  if (!any_requires_grad({&a, &b})) return y;
  Tensor as = a.detach(), bs = b.detach();
  return record("mul", y, {a, b}, [as, bs](const Tensor& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(mul(g, bs), as.shape()) : Tensor(),
                               need[1] ? sum_to(mul(g, as), bs.shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = float_binary("div", a, b, [](auto x, auto z) { return x / z; });
  if (!any_requires_grad({&a, &b})) return y;
  Tensor as = a.detach(), bs = b.detach(), ys = y.detach();
  return record("div", y, {a, b}, [as, bs, ys](const Tensor& g, const std::vector<bool>& need) {
    Tensor ga = div(g, bs);  // d/da (a/b) = 1/b
    return std::vector<Tensor>{need[0] ? sum_to(ga, as.shape()) : Tensor(),
                               need[1] ? sum_to(neg(mul(ga, ys)), bs.shape()) : Tensor()};  // d/db = -a/b^2 = -y/b
  });
}

Tensor add_scalar(const Tensor& x, double s) {
  Tensor y = float_unary("add_scalar", x, [s](auto v) { return v + static_cast<decltype(v)>(s); });
  return record("add_scalar", y, {x}, [](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{g}; });
}

Tensor mul_scalar(const Tensor& x, double s) {
  Tensor y = float_unary("mul_scalar", x, [s](auto v) { return v * static_cast<decltype(v)>(s); });
  return record("mul_scalar", y, {x},
                [s](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{mul_scalar(g, s)}; });
}

Tensor neg(const Tensor& x) {
  Tensor y = float_unary("neg", x, [](auto v) { return -v; });
  return record("neg", y, {x}, [](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{neg(g)}; });
}

Tensor exp(const Tensor& x) {
  return unary_op("exp", x, [](auto v) { return std::exp(v); }, [](auto, auto y, auto g) { return g * y; });
}

Tensor log(const Tensor& x) {
  return unary_op("log", x, [](auto v) { return std::log(v); }, [](auto v, auto, auto g) { return g / v; });
}

Tensor sqrt(const Tensor& x) {
  return unary_op("sqrt", x, [](auto v) { return std::sqrt(v); },
                  [](auto, auto y, auto g) { return g / (y + y); });
}

Tensor pow(const Tensor& x, double p) {
  return unary_op("pow", x, [p](auto v) { return static_cast<decltype(v)>(std::pow(v, p)); },
                  [p](auto v, auto, auto g) {
                    using T = decltype(v);
                    return g * static_cast<T>(p) * static_cast<T>(std::pow(v, p - 1));
                  });
}

Tensor square(const Tensor& x) {
  return unary_op("square", x, [](auto v) { return v * v; }, [](auto v, auto, auto g) { return 2 * g * v; });
}

// sigmoid(v) = 1 / (1 + exp(-v)) over whole arrays with Eigen's vectorised
// exp (AVX/FMA packets; about 1 ulp). For v -> -inf, exp(-v) saturates at the
// largest value Eigen's exp returns, so s is 0 or a tiny positive number and
// never NaN; for v -> +inf, exp(-v) -> 0 and s -> 1.
template <class T>
static void sigmoid_array(const T* x, T* s, int64_t n) {
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  Eigen::Map<const Arr> X(x, n);
  Eigen::Map<Arr> S(s, n);
  S = T(1) / (T(1) + (-X).exp());
}

Tensor sigmoid(const Tensor& x) {
  return array_unary_op(
      "sigmoid", x, [](auto* px, auto* py, int64_t n) { sigmoid_array(px, py, n); },
      [](const auto*, const auto* py, const auto* pg, auto* po, int64_t n) {
        using T = std::remove_const_t<std::remove_pointer_t<decltype(py)>>;
        using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
        Eigen::Map<const Arr> S(py, n), G(pg, n);
        Eigen::Map<Arr>(po, n) = G * S * (T(1) - S);
      });
}

// silu(v) = v * sigmoid(v); silu'(v) = s * (1 + v * (1 - s)).
Tensor silu(const Tensor& x) {
  return array_unary_op(
      "silu", x,
      [](auto* px, auto* py, int64_t n) {
        using T = std::remove_const_t<std::remove_pointer_t<decltype(px)>>;
        using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
        sigmoid_array(px, py, n);
        Eigen::Map<Arr> Y(py, n);
        Y *= Eigen::Map<const Arr>(px, n);
      },
      [](const auto* px, const auto*, const auto* pg, auto* po, int64_t n) {
        using T = std::remove_const_t<std::remove_pointer_t<decltype(px)>>;
        using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
        sigmoid_array(px, po, n);  // po holds s, then the result
        Eigen::Map<const Arr> X(px, n), G(pg, n);
        Eigen::Map<Arr> S(po, n);
        S = G * S * (T(1) + X * (T(1) - S));
      });
}

Tensor relu(const Tensor& x) {
  // relu'(0) := 0 (the subgradient PyTorch also returns).
  return unary_op("relu", x, [](auto v) { return v > 0 ? v : decltype(v)(0); },
                  [](auto v, auto, auto g) { return v > 0 ? g : decltype(g)(0); });
}

Tensor tanh(const Tensor& x) {
  return unary_op("tanh", x, [](auto v) { return std::tanh(v); },
                  [](auto, auto t, auto g) { return g * (1 - t * t); });
}

// ---- comparisons ----

template <class F>
static Tensor compare(const char* op, const Tensor& a, const Tensor& b, F f) {
  check_cpu(op, a);
  check_cpu(op, b);
  check_same_dtype(op, a, b);
  Shape out_shape = broadcast_shapes(op, a.shape(), b.shape());
  switch (a.dtype()) {
    case DType::Float32: return binary_kernel<float, uint8_t>(a, b, out_shape, DType::UInt8, f);
    case DType::Float64: return binary_kernel<double, uint8_t>(a, b, out_shape, DType::UInt8, f);
    case DType::Int64: return binary_kernel<int64_t, uint8_t>(a, b, out_shape, DType::UInt8, f);
    case DType::UInt8: return binary_kernel<uint8_t, uint8_t>(a, b, out_shape, DType::UInt8, f);
  }
  return Tensor();
}

Tensor gt(const Tensor& a, const Tensor& b) { return compare("gt", a, b, [](auto x, auto y) -> uint8_t { return x > y; }); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare("lt", a, b, [](auto x, auto y) -> uint8_t { return x < y; }); }
Tensor eq(const Tensor& a, const Tensor& b) { return compare("eq", a, b, [](auto x, auto y) -> uint8_t { return x == y; }); }

Tensor logical_not(const Tensor& mask) {
  check_dtype("logical_not", "mask", mask, DType::UInt8);
  Tensor m = mask.contiguous();
  Tensor out = empty(mask.shape(), DType::UInt8);
  for (int64_t i = 0; i < out.numel(); ++i) out.data<uint8_t>()[i] = !m.data<uint8_t>()[i];
  return out;
}

}  // namespace seqboat
