// cpu/position.cpp: CPU kernels of ops/position.cpp: rotary embedding
// (rows in parallel) and the relative-position bias gather (its backward a
// serial scatter-add in (b, i, j) order: deterministic). Formulas in
// ops/position.cpp; the per-element ones are kernels/position.h's.
#include <algorithm>
#include <vector>

#include "cpu/backend.h"

namespace seqboat::cpu {

namespace {

using kernels::rel_pos_index;

template <class T>
void rotary(int64_t rows, int64_t Z, double sign, const int64_t* positions, const T* x, T* out) {
  std::vector<double> freq(static_cast<size_t>(Z / 2));
  for (int64_t m = 0; m < Z / 2; ++m) freq[m] = kernels::rotary_frequency(m, Z);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t m = 0; m < Z / 2; ++m)
      kernels::rotate_pair(x + r * Z + 2 * m, sign * static_cast<double>(positions[r]) * freq[m], out + r * Z + 2 * m);
}

template <class T>
void rel_pos_bias_gather_forward(int64_t B, int64_t S, int64_t Tk, int64_t M, const T* w, const int64_t* q,
                                 const int64_t* k, T* o) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < S; ++i)
      for (int64_t j = 0; j < Tk; ++j) o[(b * S + i) * Tk + j] = w[rel_pos_index(M, q[b * S + i], k[b * Tk + j])];
}

template <class T>
void rel_pos_bias_gather_backward(int64_t B, int64_t S, int64_t Tk, int64_t M, const T* g, const int64_t* q,
                                  const int64_t* k, T* dw) {
  std::fill(dw, dw + 2 * M - 1, T(0));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < S; ++i)
      for (int64_t j = 0; j < Tk; ++j) dw[rel_pos_index(M, q[b * S + i], k[b * Tk + j])] += g[(b * S + i) * Tk + j];
}

}  // namespace

void add_position_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.rotary = rotary<T>;
    t.rel_pos_bias_gather_forward = rel_pos_bias_gather_forward<T>;
    t.rel_pos_bias_gather_backward = rel_pos_bias_gather_backward<T>;
  });
}

}  // namespace seqboat::cpu
