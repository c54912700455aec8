// cpu/optim.cpp: CPU kernels of ops/optim.cpp: AdamW and SGD updates in
// place, and the gradient-norm utilities (formulas in nn/optim.h). Each
// update is computed in double per element; sums run serially in index order.
#include <cmath>

#include "cpu/backend.h"

namespace seqboat::cpu {

namespace {

template <class T>
void adamw_step(int64_t n, const kernels::AdamScalars& s, T* p, const T* g, T* m, T* v) {
#pragma omp parallel for if (n > (1 << 16))
  for (int64_t k = 0; k < n; ++k) {
    double pk = p[k] - s.decay * p[k];
    double gk = g[k];
    double mk = s.beta1 * m[k] + (1 - s.beta1) * gk;
    double vk = s.beta2 * v[k] + (1 - s.beta2) * gk * gk;
    pk -= s.lr * (mk / s.bias1) / (std::sqrt(vk / s.bias2) + s.eps);
    m[k] = static_cast<T>(mk);
    v[k] = static_cast<T>(vk);
    p[k] = static_cast<T>(pk);
  }
}

template <class T>
void sgd_step(int64_t n, const kernels::SgdScalars& s, T* p, const T* g, T* buf) {
#pragma omp parallel for if (n > (1 << 16))
  for (int64_t k = 0; k < n; ++k) {
    double gk = g[k] + s.weight_decay * p[k];
    double step = gk;
    if (buf != nullptr) {
      double b = s.first ? gk : s.momentum * buf[k] + gk;
      buf[k] = static_cast<T>(b);
      step = s.nesterov ? gk + s.momentum * b : b;
    }
    p[k] = static_cast<T>(p[k] - s.lr * step);
  }
}

template <class T>
double sum_of_squares(int64_t n, const T* x) {
  double s = 0.0;
  for (int64_t k = 0; k < n; ++k) s += static_cast<double>(x[k]) * static_cast<double>(x[k]);
  return s;
}

template <class T>
void scale_inplace(int64_t n, double s, T* x) {
  for (int64_t k = 0; k < n; ++k) x[k] = static_cast<T>(x[k] * s);
}

template <class T>
bool all_finite(int64_t n, const T* x) {
  for (int64_t k = 0; k < n; ++k)
    if (!std::isfinite(x[k])) return false;
  return true;
}

}  // namespace

void add_optim_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.adamw_step = adamw_step<T>;
    t.sgd_step = sgd_step<T>;
    t.sum_of_squares = sum_of_squares<T>;
    t.scale_inplace = scale_inplace<T>;
    t.all_finite = all_finite<T>;
  });
}

}  // namespace seqboat::cpu
