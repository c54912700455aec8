// ops/shape.h: views and copies that move data around without arithmetic.
//
// Views share storage (reshape of a contiguous tensor, permute, narrow,
// unsqueeze, squeeze, expand); their backward maps the cotangent back:
//   reshape: dx = reshape(g, x.shape)     permute: dx = permute(g, inverse)
//   narrow:  dx = zeros with g placed     expand:  dx = sum_to(g, x.shape)
// Copies: contiguous (dx = g), concat (dx_i = narrow(g)), pad (dx = narrow(g)).
#pragma once

#include "tensor/tensor.h"

namespace seqboat {

Tensor reshape(const Tensor& x, Shape shape);  // one dim may be -1
Tensor permute(const Tensor& x, const std::vector<int64_t>& order);
Tensor transpose(const Tensor& x, int64_t a, int64_t b);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor contiguous(const Tensor& x);
Tensor cast(const Tensor& x, DType dt);
Tensor to_device(const Tensor& x, Device device);  // a copy on `device`; dx = g moved back

Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);
// Constant padding of dimension `dim` with `before` and `after` entries.
Tensor pad(const Tensor& x, int64_t dim, int64_t before, int64_t after, double value = 0.0);

// Copies src (any strides, same shape and dtype) into dst (any strides, any
// device). Not recorded: dst is written in place.
void copy_into(const Tensor& dst, const Tensor& src);

}  // namespace seqboat
