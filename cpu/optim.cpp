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
  for (int64_t k = 0; k < n; ++k) kernels::adamw_update(s, p, g, m, v, k);
}

template <class T>
void sgd_step(int64_t n, const kernels::SgdScalars& s, T* p, const T* g, T* buf) {
#pragma omp parallel for if (n > (1 << 16))
  for (int64_t k = 0; k < n; ++k) kernels::sgd_update(s, p, g, buf, k);
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
