// cpu/reduce.cpp: CPU kernels of ops/reduce.cpp (sums, max, argmax over the
// rows the op prepared; see kernels/reduce.h).
#include <algorithm>

#include "cpu/backend.h"
#include "cpu/parallel.h"

namespace seqboat::cpu {

namespace {

template <class T>
void sum_rows(int64_t outer, int64_t inner, const T* x, T* out) {
  for (int64_t r = 0; r < outer; ++r) {
    T acc = 0;
    for (int64_t i = 0; i < inner; ++i) acc += x[r * inner + i];
    out[r] = acc;
  }
}

// Whole rows added in order: the same sums, in the same order, as sum_rows
// over the transpose.
template <class T>
void sum_leading(int64_t inner, int64_t outer, const T* x, T* out) {
  std::fill(out, out + outer, T(0));
  for (int64_t i = 0; i < inner; ++i)
    for (int64_t r = 0; r < outer; ++r) out[r] += x[i * outer + r];
}

template <class T>
void max_rows(int64_t outer, int64_t inner, const T* x, T* out, int64_t* index) {
  for (int64_t r = 0; r < outer; ++r) {
    const T* row = x + r * inner;
    const int64_t best = kernels::argmax_row(row, inner);
    if (out) out[r] = row[best];
    index[r] = best;
  }
}

template <class T>
void place_at_index(int64_t outer, int64_t inner, const int64_t* index, const T* g, T* out) {
  std::fill(out, out + outer * inner, T(0));
  for (int64_t r = 0; r < outer; ++r) out[r * inner + index[r]] = g[r];
}

// Rows in parallel, each summed in order.
template <class T>
void cumsum_rows(int64_t outer, int64_t inner, bool reverse, const T* x, T* out) {
#pragma omp parallel for schedule(static) if (outer * inner > kParallelWork)
  for (int64_t r = 0; r < outer; ++r) kernels::cumsum_row(x + r * inner, out + r * inner, inner, reverse);
}

}  // namespace

void add_reduce_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.sum_rows = sum_rows<T>;
    t.sum_leading = sum_leading<T>;
    t.max_rows = max_rows<T>;
    t.place_at_index = place_at_index<T>;
    t.cumsum_rows = cumsum_rows<T>;
  });
}

}  // namespace seqboat::cpu
