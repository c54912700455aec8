// ops/elementwise.h: pointwise ops with NumPy broadcasting.
//
//   forward                      backward (g = cotangent of the output)
//   add(a,b)   = a + b           da = sum_to(g),        db = sum_to(g)
//   sub(a,b)   = a - b           da = sum_to(g),        db = -sum_to(g)
//   mul(a,b)   = a * b           da = sum_to(g*b),      db = sum_to(g*a)
//   div(a,b)   = a / b           da = sum_to(g/b),      db = -sum_to(g*a/b^2)
//   neg(x)     = -x              dx = -g
//   exp(x)     = e^x             dx = g * y
//   log(x)                       dx = g / x
//   sqrt(x)                      dx = g / (2 y)
//   pow(x,p)   = x^p             dx = g * p x^(p-1)
//   square(x)  = x^2             dx = 2 g x
//   sigmoid(x) = s               dx = g s (1 - s)
//   silu(x)    = x s             dx = g s (1 + x (1 - s))
//   relu(x)    = max(x, 0)       dx = g [x > 0]     (relu'(0) := 0)
//   tanh(x)    = t               dx = g (1 - t^2)
//   where(c, a, b) = c ? a : b  da = sum_to(g * c),  db = sum_to(g * (1 - c))   (c, a, b broadcast)
//   masked_fill(x, m, v) = m ? v : x    dx = g * (1 - m)   (m broadcast to x's shape)
// Comparisons and masks are UInt8 and not differentiable.
#pragma once

#include "tensor/tensor.h"

namespace seqboat {

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add_scalar(const Tensor& x, double s);
Tensor mul_scalar(const Tensor& x, double s);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor pow(const Tensor& x, double p);
Tensor square(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor silu(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor tanh(const Tensor& x);

// Non-differentiable comparisons (UInt8 result, broadcasting).
Tensor gt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& mask);

// Mask-driven selection (cond and mask UInt8).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, double s) { return add_scalar(x, s); }
inline Tensor operator-(const Tensor& x, double s) { return add_scalar(x, -s); }
inline Tensor operator*(const Tensor& x, double s) { return mul_scalar(x, s); }
inline Tensor operator/(const Tensor& x, double s) { return mul_scalar(x, 1.0 / s); }
inline Tensor operator*(double s, const Tensor& x) { return mul_scalar(x, s); }
inline Tensor operator+(double s, const Tensor& x) { return add_scalar(x, s); }

}  // namespace seqboat
