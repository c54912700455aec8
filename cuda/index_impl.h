// cuda/index_impl.h: CUDA kernels of ops/index.cpp (kernels/index.h)
// over an executor (cuda/exec.h). Gather and plain scatter are one work item
// per index position. scatter with accumulation, the repeat check and the
// range check follow the walk in order in a single work item: exact and
// deterministic (the sums in the CPU's order), and slow, which is fine
// because the SeqBoat model does not use them (embedding and the attention
// have their own backward kernels).
#pragma once

#include "cuda/exec.h"
#include "kernels/index.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::IndexWalk;

// (offset in the indexed tensor, offset in the plain tensor) of walk position p.
SEQBOAT_HOST_DEVICE inline void walk_offsets(const IndexWalk& w, const int64_t* index, int64_t p, int64_t& indexed,
                                             int64_t& plain) {
  indexed = strided_offset(w.shape, w.indexed, p) + index[strided_offset(w.shape, w.index, p)] * w.step;
  plain = strided_offset(w.shape, w.plain, p);
}

template <class Exec, class T>
void gather(Exec& ex, const IndexWalk& w, const int64_t* index, const T* indexed, T* plain) {
  ex.for_each(w.shape.numel(), [=] SEQBOAT_HOST_DEVICE(int64_t p) {
    int64_t io, po;
    walk_offsets(w, index, p, io, po);
    plain[po] = indexed[io];
  });
}

template <class Exec, class T>
void scatter(Exec& ex, const IndexWalk& w, const int64_t* index, const T* plain, T* indexed, bool accumulate) {
  const int64_t n = w.shape.numel();
  if (!accumulate) {  // targets are unique (checked by the op)
    ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t p) {
      int64_t io, po;
      walk_offsets(w, index, p, io, po);
      indexed[io] = plain[po];
    });
    return;
  }
  ex.for_each(1, [=] SEQBOAT_HOST_DEVICE(int64_t) {
    for (int64_t p = 0; p < n; ++p) {
      int64_t io, po;
      walk_offsets(w, index, p, io, po);
      indexed[io] += plain[po];
    }
  });
}

template <class Exec, class T>
void zero_indexed(Exec& ex, const IndexWalk& w, const int64_t* index, T* indexed) {
  ex.for_each(w.shape.numel(), [=] SEQBOAT_HOST_DEVICE(int64_t p) {
    int64_t io, po;
    walk_offsets(w, index, p, io, po);
    indexed[io] = T(0);
  });
}

// The first target reached twice, in walk order, using a zeroed counter per target.
template <class Exec>
int64_t first_repeat(Exec& ex, const IndexWalk& w, const int64_t* index, int64_t indexed_numel) {
  auto seen = ex.template scratch<uint8_t>(indexed_numel);
  auto result = ex.template scratch<int64_t>(1);
  uint8_t* s = seen.get();
  int64_t* r = result.get();
  const int64_t n = w.shape.numel();
  ex.for_each(indexed_numel, [=] SEQBOAT_HOST_DEVICE(int64_t i) { s[i] = 0; });
  ex.for_each(1, [=] SEQBOAT_HOST_DEVICE(int64_t) {
    r[0] = -1;
    for (int64_t p = 0; p < n; ++p) {
      int64_t io, po;
      walk_offsets(w, index, p, io, po);
      if (s[io]++) {
        r[0] = io;
        return;
      }
    }
  });
  int64_t host = -1;
  ex.to_host(&host, r, sizeof(host));
  return host;
}

template <class Exec>
int64_t first_out_of_range(Exec& ex, int64_t n, const int64_t* idx, int64_t size, int64_t ignore) {
  auto result = ex.template scratch<int64_t>(1);
  int64_t* r = result.get();
  ex.for_each(1, [=] SEQBOAT_HOST_DEVICE(int64_t) {
    r[0] = -1;
    for (int64_t i = 0; i < n; ++i)
      if (idx[i] != ignore && (idx[i] < 0 || idx[i] >= size)) {
        r[0] = i;
        return;
      }
  });
  int64_t host = -1;
  ex.to_host(&host, r, sizeof(host));
  return host;
}

// The index kernels of executor Exec, for the kernel table.
template <class Exec>
void add_index_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.gather = &Bound<&gather<Exec, T>>::call;
    t.scatter = &Bound<&scatter<Exec, T>>::call;
    t.zero_indexed = &Bound<&zero_indexed<Exec, T>>::call;
  });
  k.untyped.first_repeat = &Bound<&first_repeat<Exec>>::call;
  k.untyped.first_out_of_range = &Bound<&first_out_of_range<Exec>>::call;
}

}  // namespace seqboat::cuda::impl
