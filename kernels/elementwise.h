// kernels/elementwise.h: kernels of ops/elementwise.cpp (pointwise maths,
// comparisons, where and masked_fill; formulas in ops/elementwise.h), and the
// per-element formulas both backends evaluate.
#pragma once

#include "kernels/common.h"
#include "kernels/math.h"

namespace seqboat::kernels {

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div };
enum class CompareOp : uint8_t { Gt, Lt, Eq };
// `scalar` is s for AddScalar / MulScalar and p for Pow; unused otherwise.
enum class UnaryOp : uint8_t { AddScalar, MulScalar, Neg, Exp, Log, Sqrt, Pow, Square, Sigmoid, Silu, Relu, Tanh };

// out[p] = a[p] op b[p] for every position p of `shape`; out is contiguous,
// a and b are read at their (broadcast) strides.
template <class T>
using BinaryFn = void(BinaryOp op, const StridedShape& shape, const Strides& a_strides, const T* a,
                      const Strides& b_strides, const T* b, T* out);
// out[p] = a[p] cmp b[p] (1 or 0), as BinaryFn; every dtype.
template <class T>
using CompareFn = void(CompareOp op, const StridedShape& shape, const Strides& a_strides, const T* a,
                       const Strides& b_strides, const T* b, uint8_t* out);
// y[i] = f(x[i]) over n contiguous elements.
template <class T>
using UnaryFn = void(UnaryOp op, double scalar, int64_t n, const T* x, T* y);
// dx[i] = g[i] f'(x[i]) with y = f(x) at hand, for Exp .. Tanh (the linear
// ops AddScalar, MulScalar, Neg have composed backwards).
template <class T>
using UnaryBackwardFn = void(UnaryOp op, double scalar, int64_t n, const T* x, const T* y, const T* g, T* dx);
// out[i] = !x[i] (UInt8 masks).
using LogicalNotFn = void(int64_t n, const uint8_t* x, uint8_t* out);
// out[p] = cond[p] ? a[p] : b[p]; out contiguous.
template <class T>
using WhereFn = void(const StridedShape& shape, const Strides& cond_strides, const uint8_t* cond,
                     const Strides& a_strides, const T* a, const Strides& b_strides, const T* b, T* out);
// out[p] = (mask[p] != 0) == fill_where_set ? value : x[p]; out contiguous.
// masked_fill is fill_where_set = true; the masked gradient g * [mask == keep]
// is value 0 with fill_where_set = !keep.
template <class T>
using MaskedFillFn = void(const StridedShape& shape, const Strides& x_strides, const T* x, const Strides& mask_strides,
                          const uint8_t* mask, bool fill_where_set, T value, T* out);

// ---- The formulas, per element, on the host and on the GPU.

template <class T>
SEQBOAT_HOST_DEVICE inline T binary_value(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
  }
  return T(0);
}

template <class T>
SEQBOAT_HOST_DEVICE inline uint8_t compare_value(CompareOp op, T x, T y) {
  switch (op) {
    case CompareOp::Gt: return x > y;
    case CompareOp::Lt: return x < y;
    case CompareOp::Eq: return x == y;
  }
  return 0;
}

template <class T>
SEQBOAT_HOST_DEVICE inline T sigmoid_of(T v) {
  return T(1) / (T(1) + math_exp(-v));
}

// y = f(x) (ops/elementwise.h); `scalar` is s (AddScalar, MulScalar) or p (Pow).
template <class T>
SEQBOAT_HOST_DEVICE inline T unary_value(UnaryOp op, double scalar, T v) {
  switch (op) {
    case UnaryOp::AddScalar: return v + static_cast<T>(scalar);
    case UnaryOp::MulScalar: return v * static_cast<T>(scalar);
    case UnaryOp::Neg: return -v;
    case UnaryOp::Exp: return math_exp(v);
    case UnaryOp::Log: return math_log(v);
    case UnaryOp::Sqrt: return math_sqrt(v);
    case UnaryOp::Pow: return static_cast<T>(::pow(static_cast<double>(v), scalar));
    case UnaryOp::Square: return v * v;
    case UnaryOp::Sigmoid: return sigmoid_of(v);
    case UnaryOp::Silu: return v * sigmoid_of(v);
    case UnaryOp::Relu: return v > 0 ? v : T(0);  // relu'(0) := 0
    case UnaryOp::Tanh: return math_tanh(v);
  }
  return T(0);
}

// dx = g f'(x), y = f(x) (ops/elementwise.h; Exp .. Tanh: the linear ops are
// composed by the op).
template <class T>
SEQBOAT_HOST_DEVICE inline T unary_grad(UnaryOp op, double scalar, T x, T y, T g) {
  switch (op) {
    case UnaryOp::Exp: return g * y;
    case UnaryOp::Log: return g / x;
    case UnaryOp::Sqrt: return g / (y + y);
    case UnaryOp::Pow: return g * static_cast<T>(scalar) * static_cast<T>(::pow(static_cast<double>(x), scalar - 1));
    case UnaryOp::Square: return 2 * g * x;
    case UnaryOp::Sigmoid: return g * y * (T(1) - y);
    case UnaryOp::Silu: {
      const T s = sigmoid_of(x);
      return g * s * (T(1) + x * (T(1) - s));
    }
    case UnaryOp::Relu: return x > 0 ? g : T(0);
    case UnaryOp::Tanh: return g * (1 - y * y);
    case UnaryOp::AddScalar:
    case UnaryOp::MulScalar:
    case UnaryOp::Neg: break;
  }
  return T(0);
}

}  // namespace seqboat::kernels

// The kernel table's rows of this family (kernels/table.h): K a typed
// kernel (a slot per element type), U an untyped one.
#define SEQBOAT_KERNELS_elementwise(K, U)          \
  K(elementwise, binary, BinaryFn)                 \
  K(elementwise, compare, CompareFn)               \
  K(elementwise, unary, UnaryFn)                   \
  K(elementwise, unary_backward, UnaryBackwardFn)  \
  U(elementwise, logical_not, LogicalNotFn)        \
  K(elementwise, where, WhereFn)                   \
  K(elementwise, masked_fill, MaskedFillFn)
