// kernels/reduce.h: kernels of ops/reduce.cpp. The op moves the reduced
// dims last (or first) and makes the input contiguous, so every kernel sees
// rows of a plain matrix.
#pragma once

#include "kernels/common.h"

namespace seqboat::kernels {

// out[r] = sum_{i < inner} x[r inner + i], added in order of i.
template <class T>
using SumRowsFn = void(int64_t outer, int64_t inner, const T* x, T* out);
// out[r] = sum_{i < inner} x[i outer + r], added in order of i (the reduced
// dims lead: no transpose needed, and the same order as SumRows).
template <class T>
using SumLeadingFn = void(int64_t inner, int64_t outer, const T* x, T* out);
// index[r] = first position of the largest element of row r; out[r] = that
// element (out may be null: argmax).
template <class T>
using MaxRowsFn = void(int64_t outer, int64_t inner, const T* x, T* out, int64_t* index);
// The first position of the largest of the n elements of row (ties: the
// first wins); both backends' max_rows run it per row.
template <class T>
SEQBOAT_HOST_DEVICE inline int64_t argmax_row(const T* row, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (row[i] > row[best]) best = i;
  return best;
}
// out[r, i] = sum_{j <= i} x[r, j] (reverse: sum_{j >= i}), added in order.
template <class T>
using CumsumRowsFn = void(int64_t outer, int64_t inner, bool reverse, const T* x, T* out);
// One row of it (both backends run this per row: cumsum terms 1 and 2).
template <class T>
SEQBOAT_HOST_DEVICE inline void cumsum_row(const T* x, T* out, int64_t n, bool reverse) {
  T acc = 0;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = reverse ? n - 1 - k : k;
    acc += x[i];
    out[i] = acc;
  }
}
// out (outer, inner) = 0 except out[r, index[r]] = g[r] (max's backward).
template <class T>
using PlaceAtIndexFn = void(int64_t outer, int64_t inner, const int64_t* index, const T* g, T* out);

}  // namespace seqboat::kernels

// The kernel table's rows of this family (kernels/table.h).
#define SEQBOAT_KERNELS_reduce(K, U)         \
  K(reduce, sum_rows, SumRowsFn)             \
  K(reduce, sum_leading, SumLeadingFn)       \
  K(reduce, max_rows, MaxRowsFn)             \
  K(reduce, place_at_index, PlaceAtIndexFn)  \
  K(reduce, cumsum_rows, CumsumRowsFn)
