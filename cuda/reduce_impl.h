// cuda/reduce_impl.h: CUDA kernels of ops/reduce.cpp (kernels/reduce.h),
// over an executor (cuda/exec.h). Sums over rows through ex.reduce_rows (a
// work item per short row, a block of threads per long one), over leading
// dims through ex.reduce_cols (coalesced column sums); max per row in one
// work item, in order, so that the first maximal element wins as on the CPU.
#pragma once

#include "cuda/exec.h"
#include "kernels/reduce.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

template <class Exec, class T>
void sum_rows(Exec& ex, int64_t outer, int64_t inner, const T* x, T* out) {
  ex.template reduce_rows<T>(
      outer, inner, [=] SEQBOAT_HOST_DEVICE(int64_t r, int64_t i) { return x[r * inner + i]; },
      [=] SEQBOAT_HOST_DEVICE(int64_t r, T total) { out[r] = total; });
}

template <class Exec, class T>
void sum_leading(Exec& ex, int64_t inner, int64_t outer, const T* x, T* out) {
  ex.template reduce_cols<T>(
      outer, inner, [=] SEQBOAT_HOST_DEVICE(int64_t r, int64_t i) { return x[i * outer + r]; },
      [=] SEQBOAT_HOST_DEVICE(int64_t r, T total) { out[r] = total; });
}

template <class Exec, class T>
void max_rows(Exec& ex, int64_t outer, int64_t inner, const T* x, T* out, int64_t* index) {
  ex.for_each(outer, [=] SEQBOAT_HOST_DEVICE(int64_t r) {
    const T* row = x + r * inner;
    const int64_t best = kernels::argmax_row(row, inner);
    if (out) out[r] = row[best];
    index[r] = best;
  });
}

// out (outer, inner): g[r] at index[r] of row r, 0 elsewhere; one item per element.
template <class Exec, class T>
void place_at_index(Exec& ex, int64_t outer, int64_t inner, const int64_t* index, const T* g, T* out) {
  ex.for_each(outer * inner, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t r = e / inner, i = e % inner;
    out[e] = index[r] == i ? g[r] : T(0);
  });
}

// One work item per row, summed in order (as on the CPU).
template <class Exec, class T>
void cumsum_rows(Exec& ex, int64_t outer, int64_t inner, bool reverse, const T* x, T* out) {
  ex.for_each(outer, [=] SEQBOAT_HOST_DEVICE(int64_t r) {
    kernels::cumsum_row(x + r * inner, out + r * inner, inner, reverse);
  });
}

// The reduce kernels of executor Exec, for the kernel table.
template <class Exec>
void add_reduce_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.sum_rows = &Bound<&sum_rows<Exec, T>>::call;
    t.sum_leading = &Bound<&sum_leading<Exec, T>>::call;
    t.max_rows = &Bound<&max_rows<Exec, T>>::call;
    t.place_at_index = &Bound<&place_at_index<Exec, T>>::call;
    t.cumsum_rows = &Bound<&cumsum_rows<Exec, T>>::call;
  });
}

}  // namespace seqboat::cuda::impl
