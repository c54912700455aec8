// ops/index.h: indexing ops: gather / scatter along a dimension and row
// selection (torch semantics). Index tensors are Int64 and not
// differentiable. An index outside
// [0, size) throws std::invalid_argument naming the op, the index value and
// the size of the indexed dimension (negative indices are not wrapped).
//
// Notation: for a position p of the index tensor, p[d := k] is p with its
// coordinate along dim d replaced by k. g is the cotangent of the output.
//
//   gather(x, d, idx)            out[p] = x[p[d := idx[p]]]          out shape = idx shape
//       dx = scatter_add(zeros_like(x), d, idx, g)
//         term: each out[p] read one x element, so g[p] flows back to it;
//               an element read several times sums its cotangents
//
//   scatter(base, d, idx, src)   out = base; out[p[d := idx[p]]] = src[p] for p in idx shape
//       dbase = g with the written positions zeroed
//         term: a written output no longer depends on base
//       dsrc[p] = g[p[d := idx[p]]] (= gather(g, d, idx)); 0 where p is outside idx shape
//       Indices must be unique within each slice along d: with a repeat the
//       result would depend on the write order and the gradient would be
//       ambiguous, so a repeated index throws (use scatter_add to accumulate).
//
//   scatter_add(base, d, idx, src)  out = base; out[p[d := idx[p]]] += src[p]
//       dbase = g,   dsrc = gather(g, d, idx) (0 outside idx shape)
//
//   index_select(x, d, idx1d)    out[.., k, ..] = x[.., idx[k], ..]   (k along d)
//       dx = index_add(zeros_like(x), d, idx, g): rows selected twice sum
//
// Shapes (as in torch): gather needs idx.dim == x.dim and idx.size(k) <=
// x.size(k) for k != d; scatter/scatter_add need idx.size(k) <= src.size(k)
// for all k and idx.size(k) <= base.size(k) for k != d.
#pragma once

#include "tensor/tensor.h"

namespace seqboat {

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter(const Tensor& base, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter_add(const Tensor& base, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);

}  // namespace seqboat
