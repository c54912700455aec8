// cuda/elementwise_impl.h: CUDA kernels of ops/elementwise.cpp and of the
// mask-driven selections of ops/index.cpp (kernels/elementwise.h), over
// an executor (cuda/exec.h). One work item per output element; the formulas
// are those of ops/elementwise.h, evaluated as cpu/elementwise.cpp does.
#pragma once

#include <cmath>

#include "cuda/exec.h"
#include "kernels/elementwise.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::BinaryOp;
using kernels::CompareOp;
using kernels::StridedShape;
using kernels::Strides;
using kernels::UnaryOp;

template <class T>
SEQBOAT_HOST_DEVICE inline T apply_binary(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
  }
  return T(0);
}

template <class T>
SEQBOAT_HOST_DEVICE inline uint8_t apply_compare(CompareOp op, T x, T y) {
  switch (op) {
    case CompareOp::Gt: return x > y;
    case CompareOp::Lt: return x < y;
    case CompareOp::Eq: return x == y;
  }
  return 0;
}

template <class T>
SEQBOAT_HOST_DEVICE inline T sigmoid_value(T v) {
  return T(1) / (T(1) + math_exp(-v));
}

// y = f(x); `scalar` is s (AddScalar, MulScalar) or p (Pow).
template <class T>
SEQBOAT_HOST_DEVICE inline T apply_unary(UnaryOp op, double scalar, T v) {
  switch (op) {
    case UnaryOp::AddScalar: return v + static_cast<T>(scalar);
    case UnaryOp::MulScalar: return v * static_cast<T>(scalar);
    case UnaryOp::Neg: return -v;
    case UnaryOp::Exp: return math_exp(v);
    case UnaryOp::Log: return math_log(v);
    case UnaryOp::Sqrt: return math_sqrt(v);
    case UnaryOp::Pow: return static_cast<T>(pow(static_cast<double>(v), scalar));
    case UnaryOp::Square: return v * v;
    case UnaryOp::Sigmoid: return sigmoid_value(v);
    case UnaryOp::Silu: return v * sigmoid_value(v);
    case UnaryOp::Relu: return v > 0 ? v : T(0);  // relu'(0) := 0
    case UnaryOp::Tanh: return math_tanh(v);
  }
  return T(0);
}

// dx = g f'(x), y = f(x) (Exp .. Tanh; the linear ops are composed by the op).
template <class T>
SEQBOAT_HOST_DEVICE inline T apply_unary_backward(UnaryOp op, double scalar, T x, T y, T g) {
  switch (op) {
    case UnaryOp::Exp: return g * y;
    case UnaryOp::Log: return g / x;
    case UnaryOp::Sqrt: return g / (y + y);
    case UnaryOp::Pow: return g * static_cast<T>(scalar) * static_cast<T>(pow(static_cast<double>(x), scalar - 1));
    case UnaryOp::Square: return 2 * g * x;
    case UnaryOp::Sigmoid: return g * y * (T(1) - y);
    case UnaryOp::Silu: {
      const T s = sigmoid_value(x);
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

template <class Exec, class T>
void binary(Exec& ex, BinaryOp op, const StridedShape& shape, const Strides& sa, const T* a, const Strides& sb,
            const T* b, T* out) {
  ex.for_each(shape.numel(), [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    out[i] = apply_binary(op, a[strided_offset(shape, sa, i)], b[strided_offset(shape, sb, i)]);
  });
}

template <class Exec, class T>
void compare(Exec& ex, CompareOp op, const StridedShape& shape, const Strides& sa, const T* a, const Strides& sb,
             const T* b, uint8_t* out) {
  ex.for_each(shape.numel(), [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    out[i] = apply_compare(op, a[strided_offset(shape, sa, i)], b[strided_offset(shape, sb, i)]);
  });
}

template <class Exec, class T>
void unary(Exec& ex, UnaryOp op, double scalar, int64_t n, const T* x, T* y) {
  ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { y[i] = apply_unary(op, scalar, x[i]); });
}

template <class Exec, class T>
void unary_backward(Exec& ex, UnaryOp op, double scalar, int64_t n, const T* x, const T* y, const T* g, T* dx) {
  ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { dx[i] = apply_unary_backward(op, scalar, x[i], y[i], g[i]); });
}

template <class Exec, class T>
void logical_not(Exec& ex, int64_t n, const uint8_t* x, uint8_t* out) {
  ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { out[i] = x[i] == 0; });
}

template <class Exec, class T>
void where(Exec& ex, const StridedShape& shape, const Strides& sc, const uint8_t* c, const Strides& sa, const T* a,
           const Strides& sb, const T* b, T* out) {
  ex.for_each(shape.numel(), [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    out[i] = c[strided_offset(shape, sc, i)] ? a[strided_offset(shape, sa, i)] : b[strided_offset(shape, sb, i)];
  });
}

template <class Exec, class T>
void masked_fill(Exec& ex, const StridedShape& shape, const Strides& sx, const T* x, const Strides& sm,
                 const uint8_t* mask, bool fill_where_set, T value, T* out) {
  ex.for_each(shape.numel(), [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    out[i] = (mask[strided_offset(shape, sm, i)] != 0) == fill_where_set ? value : x[strided_offset(shape, sx, i)];
  });
}

// The elementwise kernels of executor Exec, for the kernel table.
template <class Exec, class T>
void fill_elementwise_kernels(kernels::TypedKernels<T>& k) {
  k.binary = &Bound<&binary<Exec, T>>::call;
  k.unary = &Bound<&unary<Exec, T>>::call;
  k.unary_backward = &Bound<&unary_backward<Exec, T>>::call;
  k.where = &Bound<&where<Exec, T>>::call;
  k.masked_fill = &Bound<&masked_fill<Exec, T>>::call;
}

template <class Exec>
void add_elementwise_kernels(kernels::BackendKernels& k) {
  fill_elementwise_kernels<Exec>(k.f32);
  fill_elementwise_kernels<Exec>(k.f64);
  k.f32.compare = &Bound<&compare<Exec, float>>::call;
  k.f64.compare = &Bound<&compare<Exec, double>>::call;
  k.i64.compare = &Bound<&compare<Exec, int64_t>>::call;
  k.u8.compare = &Bound<&compare<Exec, uint8_t>>::call;
  k.u8.logical_not = &Bound<&logical_not<Exec, uint8_t>>::call;
}

}  // namespace seqboat::cuda::impl
