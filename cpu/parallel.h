// cpu/parallel.h: how the CPU kernels share out work and walk strided
// operands. OpenMP lives in cpu/ only; every helper here keeps results
// independent of the thread count (each output element is computed by one
// thread, in a fixed order).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "kernels/common.h"

namespace seqboat::cpu {

using kernels::StridedShape;
using kernels::Strides;

// Loops over fewer elements than this stay serial (OpenMP start-up costs more).
constexpr int64_t kParallelWork = 1 << 15;

// f(lo, hi) over [0, n) in chunks, on all threads when n is large. Only for
// elementwise work: every element is computed the same way whatever the
// thread count, so results do not depend on it.
template <class F>
void for_chunks(int64_t n, F f) {
  constexpr int64_t chunk = 1 << 14;
  const int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n > kParallelWork)
  for (int64_t c = 0; c < chunks; ++c) f(c * chunk, std::min(n, (c + 1) * chunk));
}

// Calls f(offsets) for every multi-index of `shape` in row-major order, where
// offsets[k] = sum_d index[d] * strides[k]->step[d] (N operands).
template <size_t N, class F>
void for_each_offset(const StridedShape& shape, const std::array<const Strides*, N>& strides, F&& f) {
  const int32_t nd = shape.ndim;
  if (shape.numel() == 0) return;
  std::array<int64_t, N> off{};
  if (nd == 0) {
    f(off);
    return;
  }
  int64_t idx[kernels::kMaxDims] = {};
  const int64_t inner = shape.size[nd - 1];
  while (true) {
    std::array<int64_t, N> o = off;
    for (int64_t i = 0; i < inner; ++i) {
      f(o);
      for (size_t k = 0; k < N; ++k) o[k] += strides[k]->step[nd - 1];
    }
    int32_t d = nd - 2;
    for (; d >= 0; --d) {
      if (++idx[d] < shape.size[d]) {
        for (size_t k = 0; k < N; ++k) off[k] += strides[k]->step[d];
        break;
      }
      for (size_t k = 0; k < N; ++k) off[k] -= strides[k]->step[d] * (shape.size[d] - 1);
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

// True when `strides` lays `shape` out contiguously (row-major; size-1 dims
// may have any stride).
inline bool is_contiguous(const StridedShape& shape, const Strides& strides) {
  int64_t expected = 1;
  for (int32_t d = shape.ndim - 1; d >= 0; --d) {
    if (shape.size[d] == 1) continue;
    if (strides.step[d] != expected) return false;
    expected *= shape.size[d];
  }
  return true;
}

}  // namespace seqboat::cpu
