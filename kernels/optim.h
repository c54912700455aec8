// kernels/optim.h: kernels of ops/optim.cpp: the optimizer updates and
// the gradient-norm utilities (formulas in nn/optim.h). Updates are in place;
// per-element arithmetic is in double.
#pragma once

#include "kernels/common.h"

namespace seqboat::kernels {

struct AdamScalars {
  double lr, decay, beta1, beta2, eps, bias1, bias2;  // decay = lr * wd; bias_i = 1 - beta_i^t
};
template <class T>
using AdamWFn = void(int64_t n, const AdamScalars& s, T* p, const T* g, T* m, T* v);

struct SgdScalars {
  double lr, momentum, weight_decay;
  bool nesterov, first;  // first: the momentum buffer starts as g
};
// buf is null when momentum is 0.
template <class T>
using SgdFn = void(int64_t n, const SgdScalars& s, T* p, const T* g, T* buf);

// sum_i x_i^2, accumulated in double in a fixed order.
template <class T>
using SumOfSquaresFn = double(int64_t n, const T* x);
// x_i = T(x_i s), in place.
template <class T>
using ScaleFn = void(int64_t n, double s, T* x);
// Every x_i finite.
template <class T>
using AllFiniteFn = bool(int64_t n, const T* x);

}  // namespace seqboat::kernels
