// ops/reduce.h: reductions over dimensions.
//
//   sum(x, dims)  y = sum over dims        dx = expand(g)
//   mean(x, dims) y = sum / n              dx = expand(g) / n
//   max(x, dim)   y = max over dim         dx = g at the first argmax, 0 elsewhere
//                 (ties: the whole gradient goes to the first maximal element)
//   cumsum(x, dim)  y_i = sum_{j <= i} x_j along dim     (term 1)
//                   dx_j = sum_{i >= j} g_i, the cumulative sum of g taken
//                   from the end                      (term 2)
// Empty `dims` means all dimensions.
#pragma once

#include "tensor/tensor.h"

namespace seqboat {

Tensor sum(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);  // Int64, not differentiable
Tensor cumsum(const Tensor& x, int64_t dim);

// Reduces a broadcast gradient back to `shape` (sums the expanded dims): the
// backward of every broadcasting op.
Tensor sum_to(const Tensor& grad, const Shape& shape);

}  // namespace seqboat
