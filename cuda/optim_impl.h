// cuda/optim_impl.h: CUDA kernels of ops/optim.cpp (kernels/optim.h)
// over an executor (cuda/exec.h): the AdamW and SGD updates, one work item
// per element in double as on the CPU; the global-norm pieces as a fixed
// number of lanes, each summing its elements in order, combined on the host
// in lane order, so the norm is the same in every run.
#pragma once

#include <vector>

#include "cuda/exec.h"
#include "kernels/optim.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

constexpr int64_t kLanes = 4096;  // partial sums of the norm reductions

template <class Exec, class T>
void adamw_step(Exec& ex, int64_t n, const kernels::AdamScalars& s, T* p, const T* g, T* m, T* v) {
  ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t k) { kernels::adamw_update(s, p, g, m, v, k); });
}

template <class Exec, class T>
void sgd_step(Exec& ex, int64_t n, const kernels::SgdScalars& s, T* p, const T* g, T* buf) {
  ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t k) { kernels::sgd_update(s, p, g, buf, k); });
}

// Lane l holds sum of x_i^2 over i = l, l + kLanes, ... (in order).
template <class Exec, class T>
double sum_of_squares(Exec& ex, int64_t n, const T* x) {
  const int64_t lanes = n < kLanes ? (n > 0 ? n : 1) : kLanes;
  auto part = ex.template scratch<double>(lanes);
  double* pp = part.get();
  ex.for_each(lanes, [=] SEQBOAT_HOST_DEVICE(int64_t l) {
    double s = 0;
    for (int64_t i = l; i < n; i += lanes) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    pp[l] = s;
  });
  std::vector<double> host(static_cast<size_t>(lanes));
  ex.to_host(host.data(), pp, sizeof(double) * static_cast<size_t>(lanes));
  double total = 0;
  for (double s : host) total += s;
  return total;
}

template <class Exec, class T>
void scale_inplace(Exec& ex, int64_t n, double s, T* x) {
  ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t k) { x[k] = static_cast<T>(x[k] * s); });
}

template <class Exec, class T>
bool all_finite(Exec& ex, int64_t n, const T* x) {
  const int64_t lanes = n < kLanes ? (n > 0 ? n : 1) : kLanes;
  auto part = ex.template scratch<uint8_t>(lanes);
  uint8_t* pp = part.get();
  ex.for_each(lanes, [=] SEQBOAT_HOST_DEVICE(int64_t l) {
    uint8_t ok = 1;
    for (int64_t i = l; i < n; i += lanes) ok = ok && math_isfinite(x[i]);
    pp[l] = ok;
  });
  std::vector<uint8_t> host(static_cast<size_t>(lanes));
  ex.to_host(host.data(), pp, static_cast<size_t>(lanes));
  for (uint8_t ok : host)
    if (!ok) return false;
  return true;
}

// The optim kernels of executor Exec, for the kernel table.
template <class Exec>
void add_optim_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.adamw_step = &Bound<&adamw_step<Exec, T>>::call;
    t.sgd_step = &Bound<&sgd_step<Exec, T>>::call;
    t.sum_of_squares = &Bound<&sum_of_squares<Exec, T>>::call;
    t.scale_inplace = &Bound<&scale_inplace<Exec, T>>::call;
    t.all_finite = &Bound<&all_finite<Exec, T>>::call;
  });
}

}  // namespace seqboat::cuda::impl
