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
// out (outer, inner) = 0 except out[r, index[r]] = g[r] (max's backward).
template <class T>
using PlaceAtIndexFn = void(int64_t outer, int64_t inner, const int64_t* index, const T* g, T* out);

}  // namespace seqboat::kernels
