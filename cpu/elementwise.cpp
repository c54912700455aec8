// cpu/elementwise.cpp: CPU kernels of ops/elementwise.cpp (pointwise maths,
// comparisons, where, masked_fill). Formulas in ops/elementwise.h; the
// per-element ones are kernels/elementwise.h's, shared with the CUDA kernels.
//
// Binary ops take flat loops for the common broadcasts (an operand that is
// the whole output, a scalar, a row repeated over leading dims, or a column
// repeated along the last dim); anything else walks strided offsets. Every
// path computes each element the same way, so the path never changes a bit.
// sigmoid and silu use Eigen's vectorised exp over whole chunks.
#include <Eigen/Core>
#include <cmath>
#include <type_traits>

#include "cpu/backend.h"
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

// The switch sits outside the loops: each op's loop is compiled with its
// formula (kernels/elementwise.h) inlined.
template <class T>
void binary(BinaryOp op, const StridedShape& shape, const Strides& sa, const T* a, const Strides& sb, const T* b,
            T* out) {
  auto loop = [&](auto kind) {
    binary_loop(shape, sa, a, sb, b, out, [](T x, T y) { return kernels::binary_value(decltype(kind)::value, x, y); });
  };
  switch (op) {
    case BinaryOp::Add: return loop(std::integral_constant<BinaryOp, BinaryOp::Add>{});
    case BinaryOp::Sub: return loop(std::integral_constant<BinaryOp, BinaryOp::Sub>{});
    case BinaryOp::Mul: return loop(std::integral_constant<BinaryOp, BinaryOp::Mul>{});
    case BinaryOp::Div: return loop(std::integral_constant<BinaryOp, BinaryOp::Div>{});
  }
}

template <class T>
void compare(CompareOp op, const StridedShape& shape, const Strides& sa, const T* a, const Strides& sb, const T* b,
             uint8_t* out) {
  auto loop = [&](auto kind) {
    binary_loop(shape, sa, a, sb, b, out,
                [](T x, T y) { return kernels::compare_value(decltype(kind)::value, x, y); });
  };
  switch (op) {
    case CompareOp::Gt: return loop(std::integral_constant<CompareOp, CompareOp::Gt>{});
    case CompareOp::Lt: return loop(std::integral_constant<CompareOp, CompareOp::Lt>{});
    case CompareOp::Eq: return loop(std::integral_constant<CompareOp, CompareOp::Eq>{});
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

// y = f(x) for op known at compile time (the formula inlined in the loop).
template <UnaryOp op, class T>
void unary_loop(double scalar, int64_t n, const T* x, T* y) {
  for_chunks(n, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = kernels::unary_value(op, scalar, x[i]);
  });
}

// sigmoid and silu take Eigen's vectorised exp instead of the per-element
// formula (about 1 ulp apart; 3-4x faster over the layer's gates).
template <class T>
void unary(UnaryOp op, double scalar, int64_t n, const T* x, T* y) {
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  switch (op) {
    case UnaryOp::AddScalar: return unary_loop<UnaryOp::AddScalar>(scalar, n, x, y);
    case UnaryOp::MulScalar: return unary_loop<UnaryOp::MulScalar>(scalar, n, x, y);
    case UnaryOp::Neg: return unary_loop<UnaryOp::Neg>(scalar, n, x, y);
    case UnaryOp::Exp: return unary_loop<UnaryOp::Exp>(scalar, n, x, y);
    case UnaryOp::Log: return unary_loop<UnaryOp::Log>(scalar, n, x, y);
    case UnaryOp::Sqrt: return unary_loop<UnaryOp::Sqrt>(scalar, n, x, y);
    case UnaryOp::Pow: return unary_loop<UnaryOp::Pow>(scalar, n, x, y);
    case UnaryOp::Square: return unary_loop<UnaryOp::Square>(scalar, n, x, y);
    case UnaryOp::Relu: return unary_loop<UnaryOp::Relu>(scalar, n, x, y);
    case UnaryOp::Tanh: return unary_loop<UnaryOp::Tanh>(scalar, n, x, y);
    case UnaryOp::Sigmoid:
      return for_chunks(n, [&](int64_t lo, int64_t hi) { sigmoid_array(x + lo, y + lo, hi - lo); });
    case UnaryOp::Silu:  // silu(v) = v sigmoid(v)
      return for_chunks(n, [&](int64_t lo, int64_t hi) {
        sigmoid_array(x + lo, y + lo, hi - lo);
        Eigen::Map<Arr>(y + lo, hi - lo) *= Eigen::Map<const Arr>(x + lo, hi - lo);
      });
  }
}

// dx = g f'(x) for op known at compile time.
template <UnaryOp op, class T>
void unary_grad_loop(double scalar, int64_t n, const T* x, const T* y, const T* g, T* dx) {
  for_chunks(n, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) dx[i] = kernels::unary_grad(op, scalar, x[i], y[i], g[i]);
  });
}

template <class T>
void unary_backward(UnaryOp op, double scalar, int64_t n, const T* x, const T* y, const T* g, T* dx) {
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  switch (op) {
    case UnaryOp::Exp: return unary_grad_loop<UnaryOp::Exp>(scalar, n, x, y, g, dx);
    case UnaryOp::Log: return unary_grad_loop<UnaryOp::Log>(scalar, n, x, y, g, dx);
    case UnaryOp::Sqrt: return unary_grad_loop<UnaryOp::Sqrt>(scalar, n, x, y, g, dx);
    case UnaryOp::Pow: return unary_grad_loop<UnaryOp::Pow>(scalar, n, x, y, g, dx);
    case UnaryOp::Square: return unary_grad_loop<UnaryOp::Square>(scalar, n, x, y, g, dx);
    case UnaryOp::Relu: return unary_grad_loop<UnaryOp::Relu>(scalar, n, x, y, g, dx);
    case UnaryOp::Tanh: return unary_grad_loop<UnaryOp::Tanh>(scalar, n, x, y, g, dx);
    case UnaryOp::Sigmoid: return unary_grad_loop<UnaryOp::Sigmoid>(scalar, n, x, y, g, dx);  // g s (1 - s)
    case UnaryOp::Silu:  // g s (1 + x (1 - s)), s by the vectorised exp; dx holds s first
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

}  // namespace

void add_elementwise_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.binary = binary<T>;
    t.unary = unary<T>;
    t.unary_backward = unary_backward<T>;
    t.where = where<T>;
    t.masked_fill = masked_fill<T>;
  });
  k.fill_all_dtypes([](auto& t, auto tag) { t.compare = compare<decltype(tag)>; });
  k.untyped.logical_not = logical_not;
}

}  // namespace seqboat::cpu
