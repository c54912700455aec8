// cuda/position_impl.h: CUDA kernels of ops/position.cpp (kernels/position.h)
// over an executor (cuda/exec.h): rotary embedding and the relative-position
// bias. Formulas in ops/position.cpp; the per-element ones are
// kernels/position.h's.
#pragma once

#include "cuda/exec.h"
#include "kernels/position.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::rel_pos_index;

// One work item per pair (row, m): the angle sign * pos * 10000^(-2m/Z).
template <class Exec, class T>
void rotary(Exec& ex, int64_t rows, int64_t Z, double sign, const int64_t* positions, const T* x, T* out) {
  const int64_t half = Z / 2;
  ex.for_each(rows * half, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t r = e / half, m = e % half;
    const double theta = sign * static_cast<double>(positions[r]) * kernels::rotary_frequency(m, Z);
    kernels::rotate_pair(x + r * Z + 2 * m, theta, out + r * Z + 2 * m);
  });
}

template <class Exec, class T>
void rel_pos_bias_gather_forward(Exec& ex, int64_t B, int64_t S, int64_t Tk, int64_t M, const T* w, const int64_t* q,
                                 const int64_t* k, T* o) {
  ex.for_each(B * S * Tk, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t j = e % Tk, i = (e / Tk) % S, b = e / (S * Tk);
    o[e] = w[rel_pos_index(M, q[b * S + i], k[b * Tk + j])];
  });
}

// dw[r] = sum of g[b, i, j] with bias slot r, in (b, i, j) order: one work
// item per r scanning every entry (the bias op is small; the attention's own
// bias gradient has a kernel of its own).
template <class Exec, class T>
void rel_pos_bias_gather_backward(Exec& ex, int64_t B, int64_t S, int64_t Tk, int64_t M, const T* g, const int64_t* q,
                                  const int64_t* k, T* dw) {
  ex.for_each(2 * M - 1, [=] SEQBOAT_HOST_DEVICE(int64_t r) {
    T acc = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < S; ++i)
        for (int64_t j = 0; j < Tk; ++j)
          if (rel_pos_index(M, q[b * S + i], k[b * Tk + j]) == r) acc += g[(b * S + i) * Tk + j];
    dw[r] = acc;
  });
}

// The position kernels of executor Exec, for the kernel table.
template <class Exec>
void add_position_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.rotary = &Bound<&rotary<Exec, T>>::call;
    t.rel_pos_bias_gather_forward = &Bound<&rel_pos_bias_gather_forward<Exec, T>>::call;
    t.rel_pos_bias_gather_backward = &Bound<&rel_pos_bias_gather_backward<Exec, T>>::call;
  });
}

}  // namespace seqboat::cuda::impl
