// cpu/elementwise.cpp: CPU kernels of ops/elementwise.cpp (pointwise maths,
// comparisons) and of the mask-driven selections of ops/index.cpp (where,
// masked_fill). Formulas in ops/elementwise.h and ops/index.h.
//
// Binary ops take flat loops for the common broadcasts (an operand that is
// the whole output, a scalar, a row repeated over leading dims, or a column
// repeated along the last dim); anything else walks strided offsets. Every
// path computes each element the same way, so the path never changes a bit.
// sigmoid and silu use Eigen's vectorised exp over whole chunks.
#include <Eigen/Core>
#include <cmath>
#include <type_traits>

#include "cpu/families.h"
#include "cpu/parallel.h"

namespace seqboat::cpu {

namespace {

using kernels::BinaryOp;
using kernels::CompareOp;
using kernels::UnaryOp;

// How an operand of a broadcasting binary op lines up with the (contiguous)
// output, read off its strides.
enum class Operand {
  Full,    // laid out like the output
  Scalar,  // one element everywhere
  Row,     // the output's trailing `repeat` elements, repeated over the leading dims (a bias (D) against (B, L, D))
  Column,  // one element per row of the output's last dim (a gate (B, L, 1) against (B, L, D))
  Other,
};

struct OperandKind {
  Operand kind = Operand::Other;
  int64_t row = 0;  // Row: elements per repeat
};

// Whether dims [from, to) hold stride 0 wherever their size exceeds 1.
bool zero_strides(const StridedShape& s, const Strides& st, int32_t from, int32_t to) {
  for (int32_t d = from; d < to; ++d)
    if (s.size[d] > 1 && st.step[d] != 0) return false;
  return true;
}

// Whether dims [from, to) are laid out contiguously among themselves.
bool contiguous_range(const StridedShape& s, const Strides& st, int32_t from, int32_t to) {
  int64_t expected = 1;
  for (int32_t d = to - 1; d >= from; --d) {
    if (s.size[d] == 1) continue;
    if (st.step[d] != expected) return false;
    expected *= s.size[d];
  }
  return true;
}

OperandKind classify(const StridedShape& s, const Strides& st) {
  const int32_t nd = s.ndim;
  if (contiguous_range(s, st, 0, nd)) return {Operand::Full, 0};
  if (zero_strides(s, st, 0, nd)) return {Operand::Scalar, 0};
  for (int32_t first = 1; first < nd; ++first)
    if (zero_strides(s, st, 0, first) && contiguous_range(s, st, first, nd)) {
      int64_t row = 1;
      for (int32_t d = first; d < nd; ++d) row *= s.size[d];
      return {Operand::Row, row};
    }
  if (nd >= 1 && st.step[nd - 1] == 0 && contiguous_range(s, st, 0, nd - 1)) return {Operand::Column, 0};
  return {Operand::Other, 0};
}

// out[p] = f(a[p], b[p]); see the file comment for the paths.
template <class T, class R, class F>
void binary_loop(const StridedShape& shape, const Strides& sa, const T* pa, const Strides& sb, const T* pb, R* po,
                 F f) {
  const int64_t n = shape.numel();
  const OperandKind ka = classify(shape, sa), kb = classify(shape, sb);
  const int64_t last = shape.ndim == 0 ? 1 : shape.size[shape.ndim - 1];
  if (ka.kind == Operand::Full && kb.kind == Operand::Full) {
    for_chunks(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], pb[i]);
    });
  } else if (ka.kind == Operand::Full && kb.kind == Operand::Scalar) {
    const T s = pb[0];
    for_chunks(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], s);
    });
  } else if (ka.kind == Operand::Scalar && kb.kind == Operand::Full) {
    const T s = pa[0];
    for_chunks(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(s, pb[i]);
    });
  } else if (n > 0 && ka.kind == Operand::Full && kb.kind == Operand::Row) {
    const int64_t m = kb.row;
#pragma omp parallel for schedule(static) if (n > kParallelWork)
    for (int64_t r = 0; r < n / m; ++r)
      for (int64_t j = 0; j < m; ++j) po[r * m + j] = f(pa[r * m + j], pb[j]);
  } else if (n > 0 && ka.kind == Operand::Row && kb.kind == Operand::Full) {
    const int64_t m = ka.row;
#pragma omp parallel for schedule(static) if (n > kParallelWork)
    for (int64_t r = 0; r < n / m; ++r)
      for (int64_t j = 0; j < m; ++j) po[r * m + j] = f(pa[j], pb[r * m + j]);
  } else if (n > 0 && ka.kind == Operand::Full && kb.kind == Operand::Column) {
#pragma omp parallel for schedule(static) if (n > kParallelWork)
    for (int64_t r = 0; r < n / last; ++r) {
      const T s = pb[r];
      for (int64_t j = 0; j < last; ++j) po[r * last + j] = f(pa[r * last + j], s);
    }
  } else if (n > 0 && ka.kind == Operand::Column && kb.kind == Operand::Full) {
#pragma omp parallel for schedule(static) if (n > kParallelWork)
    for (int64_t r = 0; r < n / last; ++r) {
      const T s = pa[r];
      for (int64_t j = 0; j < last; ++j) po[r * last + j] = f(s, pb[r * last + j]);
    }
  } else {
    Strides so;  // the output: contiguous
    int64_t acc = 1;
    for (int32_t d = shape.ndim - 1; d >= 0; --d) {
      so.step[d] = acc;
      acc *= std::max<int64_t>(shape.size[d], 1);
    }
    for_each_offset<3>(shape, {&so, &sa, &sb},
                       [&](const std::array<int64_t, 3>& o) { po[o[0]] = f(pa[o[1]], pb[o[2]]); });
  }
}

template <class T>
void binary(BinaryOp op, const StridedShape& shape, const Strides& sa, const T* a, const Strides& sb, const T* b,
            T* out) {
  switch (op) {
    case BinaryOp::Add: return binary_loop(shape, sa, a, sb, b, out, [](T x, T y) { return x + y; });
    case BinaryOp::Sub: return binary_loop(shape, sa, a, sb, b, out, [](T x, T y) { return x - y; });
    case BinaryOp::Mul: return binary_loop(shape, sa, a, sb, b, out, [](T x, T y) { return x * y; });
    case BinaryOp::Div: return binary_loop(shape, sa, a, sb, b, out, [](T x, T y) { return x / y; });
  }
}

template <class T>
void compare(CompareOp op, const StridedShape& shape, const Strides& sa, const T* a, const Strides& sb, const T* b,
             uint8_t* out) {
  switch (op) {
    case CompareOp::Gt: return binary_loop(shape, sa, a, sb, b, out, [](T x, T y) -> uint8_t { return x > y; });
    case CompareOp::Lt: return binary_loop(shape, sa, a, sb, b, out, [](T x, T y) -> uint8_t { return x < y; });
    case CompareOp::Eq: return binary_loop(shape, sa, a, sb, b, out, [](T x, T y) -> uint8_t { return x == y; });
  }
}

// sigmoid(v) = 1 / (1 + exp(-v)) over whole arrays with Eigen's vectorised
// exp (AVX/FMA packets; about 1 ulp). For v -> -inf, exp(-v) saturates at the
// largest value Eigen's exp returns, so s is 0 or a tiny positive number and
// never NaN; for v -> +inf, exp(-v) -> 0 and s -> 1.
template <class T>
void sigmoid_array(const T* x, T* s, int64_t n) {
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  Eigen::Map<const Arr> X(x, n);
  Eigen::Map<Arr> S(s, n);
  S = T(1) / (T(1) + (-X).exp());
}

// f over chunks of the array: every element of a chunk the same way.
template <class T, class F>
void per_element(int64_t n, const T* x, T* y, F f) {
  for_chunks(n, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = f(x[i]);
  });
}

template <class T>
void unary(UnaryOp op, double scalar, int64_t n, const T* x, T* y) {
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  const T s = static_cast<T>(scalar);
  switch (op) {
    case UnaryOp::AddScalar: return per_element(n, x, y, [s](T v) { return v + s; });
    case UnaryOp::MulScalar: return per_element(n, x, y, [s](T v) { return v * s; });
    case UnaryOp::Neg: return per_element(n, x, y, [](T v) { return -v; });
    case UnaryOp::Exp: return per_element(n, x, y, [](T v) { return std::exp(v); });
    case UnaryOp::Log: return per_element(n, x, y, [](T v) { return std::log(v); });
    case UnaryOp::Sqrt: return per_element(n, x, y, [](T v) { return std::sqrt(v); });
    case UnaryOp::Pow: return per_element(n, x, y, [scalar](T v) { return static_cast<T>(std::pow(v, scalar)); });
    case UnaryOp::Square: return per_element(n, x, y, [](T v) { return v * v; });
    case UnaryOp::Relu: return per_element(n, x, y, [](T v) { return v > 0 ? v : T(0); });  // relu'(0) := 0
    case UnaryOp::Tanh: return per_element(n, x, y, [](T v) { return std::tanh(v); });
    case UnaryOp::Sigmoid:
      return for_chunks(n, [&](int64_t lo, int64_t hi) { sigmoid_array(x + lo, y + lo, hi - lo); });
    case UnaryOp::Silu:  // silu(v) = v sigmoid(v)
      return for_chunks(n, [&](int64_t lo, int64_t hi) {
        sigmoid_array(x + lo, y + lo, hi - lo);
        Eigen::Map<Arr>(y + lo, hi - lo) *= Eigen::Map<const Arr>(x + lo, hi - lo);
      });
  }
}

// dx[i] = df(x[i], y[i], g[i]) over chunks.
template <class T, class DF>
void per_element_backward(int64_t n, const T* x, const T* y, const T* g, T* dx, DF df) {
  for_chunks(n, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) dx[i] = df(x[i], y[i], g[i]);
  });
}

template <class T>
void unary_backward(UnaryOp op, double scalar, int64_t n, const T* x, const T* y, const T* g, T* dx) {
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  switch (op) {
    case UnaryOp::Exp: return per_element_backward(n, x, y, g, dx, [](T, T y, T g) { return g * y; });
    case UnaryOp::Log: return per_element_backward(n, x, y, g, dx, [](T v, T, T g) { return g / v; });
    case UnaryOp::Sqrt: return per_element_backward(n, x, y, g, dx, [](T, T y, T g) { return g / (y + y); });
    case UnaryOp::Pow:
      return per_element_backward(n, x, y, g, dx, [scalar](T v, T, T g) {
        return g * static_cast<T>(scalar) * static_cast<T>(std::pow(v, scalar - 1));
      });
    case UnaryOp::Square: return per_element_backward(n, x, y, g, dx, [](T v, T, T g) { return 2 * g * v; });
    case UnaryOp::Relu: return per_element_backward(n, x, y, g, dx, [](T v, T, T g) { return v > 0 ? g : T(0); });
    case UnaryOp::Tanh: return per_element_backward(n, x, y, g, dx, [](T, T t, T g) { return g * (1 - t * t); });
    case UnaryOp::Sigmoid:  // dx = g s (1 - s)
      return for_chunks(n, [&](int64_t lo, int64_t hi) {
        Eigen::Map<const Arr> S(y + lo, hi - lo), G(g + lo, hi - lo);
        Eigen::Map<Arr>(dx + lo, hi - lo) = G * S * (T(1) - S);
      });
    case UnaryOp::Silu:  // dx = g s (1 + x (1 - s)); dx holds s first
      return for_chunks(n, [&](int64_t lo, int64_t hi) {
        sigmoid_array(x + lo, dx + lo, hi - lo);
        Eigen::Map<const Arr> X(x + lo, hi - lo), G(g + lo, hi - lo);
        Eigen::Map<Arr> S(dx + lo, hi - lo);
        S = G * S * (T(1) + X * (T(1) - S));
      });
    case UnaryOp::AddScalar:
    case UnaryOp::MulScalar:
    case UnaryOp::Neg: break;  // composed in ops/elementwise.cpp
  }
}

template <class T>
void logical_not(int64_t n, const uint8_t* x, uint8_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = !x[i];
}

Strides contiguous_strides_of(const StridedShape& shape) {
  Strides s;
  int64_t acc = 1;
  for (int32_t d = shape.ndim - 1; d >= 0; --d) {
    s.step[d] = acc;
    acc *= std::max<int64_t>(shape.size[d], 1);
  }
  return s;
}

template <class T>
void where(const StridedShape& shape, const Strides& sc, const uint8_t* c, const Strides& sa, const T* a,
           const Strides& sb, const T* b, T* out) {
  const Strides so = contiguous_strides_of(shape);
  for_each_offset<4>(shape, {&so, &sc, &sa, &sb},
                     [&](const std::array<int64_t, 4>& o) { out[o[0]] = c[o[1]] ? a[o[2]] : b[o[3]]; });
}

template <class T>
void masked_fill(const StridedShape& shape, const Strides& sx, const T* x, const Strides& sm, const uint8_t* mask,
                 bool fill_where_set, T value, T* out) {
  const Strides so = contiguous_strides_of(shape);
  for_each_offset<3>(shape, {&so, &sx, &sm}, [&](const std::array<int64_t, 3>& o) {
    out[o[0]] = (mask[o[2]] != 0) == fill_where_set ? value : x[o[1]];
  });
}

template <class T>
void fill_float(kernels::TypedKernels<T>& k) {
  k.binary = binary<T>;
  k.unary = unary<T>;
  k.unary_backward = unary_backward<T>;
  k.where = where<T>;
  k.masked_fill = masked_fill<T>;
}

}  // namespace

void add_elementwise_kernels(kernels::BackendKernels& k) {
  fill_float(k.f32);
  fill_float(k.f64);
  k.f32.compare = compare<float>;
  k.f64.compare = compare<double>;
  k.i64.compare = compare<int64_t>;
  k.u8.compare = compare<uint8_t>;
  k.u8.logical_not = logical_not<uint8_t>;
}

}  // namespace seqboat::cpu
