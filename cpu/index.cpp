// cpu/index.cpp: CPU kernels of ops/index.cpp: the gather / scatter walk and
// the index checks (kernels/index.h; formulas in ops/index.h). The walk
// visits positions in row-major order, so scatter_add's sums have a fixed
// order.
#include <vector>

#include "cpu/backend.h"
#include "cpu/parallel.h"

namespace seqboat::cpu {

namespace {

using kernels::IndexWalk;

// Calls f(indexed_offset, plain_offset) for every position of the walk.
template <class F>
void walk(const IndexWalk& w, const int64_t* index, F f) {
  for_each_offset<3>(w.shape, {&w.index, &w.indexed, &w.plain},
                     [&](const std::array<int64_t, 3>& o) { f(o[1] + index[o[0]] * w.step, o[2]); });
}

template <class T>
void gather(const IndexWalk& w, const int64_t* index, const T* indexed, T* plain) {
  walk(w, index, [&](int64_t io, int64_t po) { plain[po] = indexed[io]; });
}

template <class T>
void scatter(const IndexWalk& w, const int64_t* index, const T* plain, T* indexed, bool accumulate) {
  if (accumulate) walk(w, index, [&](int64_t io, int64_t po) { indexed[io] += plain[po]; });
  else walk(w, index, [&](int64_t io, int64_t po) { indexed[io] = plain[po]; });
}

template <class T>
void zero_indexed(const IndexWalk& w, const int64_t* index, T* indexed) {
  walk(w, index, [&](int64_t io, int64_t) { indexed[io] = T(0); });
}

int64_t first_repeat(const IndexWalk& w, const int64_t* index, int64_t indexed_numel) {
  std::vector<uint8_t> seen(static_cast<size_t>(indexed_numel), 0);
  int64_t repeated = -1;
  walk(w, index, [&](int64_t io, int64_t) {
    if (repeated < 0 && seen[io]++) repeated = io;
  });
  return repeated;
}

int64_t first_out_of_range(int64_t n, const int64_t* idx, int64_t size, int64_t ignore) {
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] != ignore && (idx[i] < 0 || idx[i] >= size)) return i;
  return -1;
}

}  // namespace

void add_index_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.gather = gather<T>;
    t.scatter = scatter<T>;
    t.zero_indexed = zero_indexed<T>;
  });
  k.untyped.first_repeat = first_repeat;
  k.untyped.first_out_of_range = first_out_of_range;
}

}  // namespace seqboat::cpu
