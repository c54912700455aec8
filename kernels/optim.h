// kernels/optim.h: kernels of ops/optim.cpp: the optimizer updates and
// the gradient-norm utilities (formulas in nn/optim.h). Updates are in place;
// per-element arithmetic is in double.
#pragma once

#include "kernels/common.h"
#include "kernels/math.h"

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

// ---- The per-element updates both backends run, in double (formulas in
// nn/optim.h; callable on the host and on the GPU) ----

// AdamW on element k: decoupled decay, then the bias-corrected Adam step.
template <class T>
SEQBOAT_HOST_DEVICE inline void adamw_update(const AdamScalars& s, T* p, const T* g, T* m, T* v, int64_t k) {
  double pk = p[k] - s.decay * p[k];
  const double gk = g[k];
  const double mk = s.beta1 * m[k] + (1 - s.beta1) * gk;
  const double vk = s.beta2 * v[k] + (1 - s.beta2) * gk * gk;
  pk -= s.lr * (mk / s.bias1) / (math_sqrt(vk / s.bias2) + s.eps);
  m[k] = static_cast<T>(mk);
  v[k] = static_cast<T>(vk);
  p[k] = static_cast<T>(pk);
}

// SGD on element k: L2 decay into the gradient, then (heavy-ball or
// Nesterov) momentum when buf is given.
template <class T>
SEQBOAT_HOST_DEVICE inline void sgd_update(const SgdScalars& s, T* p, const T* g, T* buf, int64_t k) {
  const double gk = g[k] + s.weight_decay * p[k];
  double step = gk;
  if (buf != nullptr) {
    const double b = s.first ? gk : s.momentum * buf[k] + gk;
    buf[k] = static_cast<T>(b);
    step = s.nesterov ? gk + s.momentum * b : b;
  }
  p[k] = static_cast<T>(p[k] - s.lr * step);
}

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

// The kernel table's rows of this family (kernels/table.h).
#define SEQBOAT_KERNELS_optim(K, U)         \
  K(optim, adamw_step, AdamWFn)             \
  K(optim, sgd_step, SgdFn)                 \
  K(optim, sum_of_squares, SumOfSquaresFn)  \
  K(optim, scale_inplace, ScaleFn)          \
  K(optim, all_finite, AllFiniteFn)
