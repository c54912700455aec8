// kernels/index.h: kernels of ops/index.cpp (gather, scatter,
// scatter_add, index_select) and the index checks of every op that reads
// indices (embedding, cross_entropy too). Formulas in ops/index.h.
#pragma once

#include "kernels/common.h"

namespace seqboat::kernels {

// The walk shared by the index ops, along dim d. For every position p of
// `shape` (row-major order): k = index[p . index_strides] (already checked to
// lie in range); the element p[d := k] of the indexed tensor is at
// p . indexed_strides + k step (indexed_strides has 0 at d, step is d's
// stride), and the element p of the other ("plain") tensor at p . plain_strides.
struct IndexWalk {
  StridedShape shape;
  Strides index, indexed, plain;
  int64_t step = 0;
};

// plain[p] = indexed[p[d := k]]
template <class T>
using GatherFn = void(const IndexWalk& walk, const int64_t* index, const T* indexed, T* plain);
// indexed[p[d := k]] = plain[p]  (+= when accumulate; in walk order)
template <class T>
using ScatterFn = void(const IndexWalk& walk, const int64_t* index, const T* plain, T* indexed, bool accumulate);
// indexed[p[d := k]] = 0
template <class T>
using ZeroIndexedFn = void(const IndexWalk& walk, const int64_t* index, T* indexed);
// The offset into `indexed` (contiguous, indexed_numel elements) that the walk
// reaches a second time, or -1 when every target is reached at most once.
using FirstRepeatFn = int64_t(const IndexWalk& walk, const int64_t* index, int64_t indexed_numel);
// The first i < n with idx[i] outside [0, size) and idx[i] != ignore, or -1.
using FirstOutOfRangeFn = int64_t(int64_t n, const int64_t* idx, int64_t size, int64_t ignore);

}  // namespace seqboat::kernels

// The kernel table's rows of this family (kernels/table.h): K a typed
// kernel (a slot per element type), U an untyped one.
#define SEQBOAT_KERNELS_index(K, U)                \
  K(index, gather, GatherFn)                       \
  K(index, scatter, ScatterFn)                     \
  K(index, zero_indexed, ZeroIndexedFn)            \
  U(index, first_repeat, FirstRepeatFn)            \
  U(index, first_out_of_range, FirstOutOfRangeFn)
