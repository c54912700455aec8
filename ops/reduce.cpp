// ops/reduce.cpp: sum, mean, max over dimensions and the cumulative sum
// along one (formulas in ops/reduce.h).
//
// Strategy: move the reduced dims last (a permuted view), make that
// contiguous, and let the kernel reduce each row of `inner` elements (or, when
// the reduced dims already lead a contiguous tensor, add whole rows). Simple
// and exact; the hot reductions of the model (layer norm, softmax) have fused
// kernels.
#include "ops/reduce.h"

#include <algorithm>
#include <limits>

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"
#include "ops/elementwise.h"
#include "ops/shape.h"

namespace seqboat {

namespace {

struct ReducePlan {
  std::vector<bool> reduced;  // per input dim
  Shape out_keep;             // output shape with keepdim
  Shape out;                  // output shape as requested
  Tensor rows;                // contiguous (outer, inner) view of the input; see `leading`
  int64_t outer = 1, inner = 1;
  // Only when the caller allows it: the reduced dims are exactly the leading
  // ones of a contiguous x, and `rows` is x itself, (inner, outer) row-major.
  bool leading = false;
};

ReducePlan plan_reduce(const char* op, const Tensor& x, std::vector<int64_t> dims, bool keepdim,
                       bool allow_leading = false) {
  check_defined(op, "x", x);
  ReducePlan p;
  const int64_t nd = x.dim();
  p.reduced.assign(static_cast<size_t>(nd), dims.empty());
  for (int64_t d : dims) {
    int64_t k = normalize_dim(op, d, nd);
    if (p.reduced[k] && !dims.empty()) fail(fmt::format("{}: dimension {} listed twice", op, k));
    p.reduced[k] = true;
  }
  std::vector<int64_t> order;
  for (int64_t i = 0; i < nd; ++i)
    if (!p.reduced[i]) order.push_back(i);
  for (int64_t i = 0; i < nd; ++i)
    if (p.reduced[i]) order.push_back(i);
  for (int64_t i = 0; i < nd; ++i) {
    p.out_keep.push_back(p.reduced[i] ? 1 : x.shape()[i]);
    if (p.reduced[i]) p.inner *= x.shape()[i];
    else p.outer *= x.shape()[i];
    if (!p.reduced[i] || keepdim) p.out.push_back(p.out_keep.back());
  }
  int64_t prefix = 0;
  while (prefix < nd && p.reduced[prefix]) ++prefix;
  bool only_prefix = prefix > 0 && prefix < nd;
  for (int64_t i = prefix; i < nd; ++i) only_prefix = only_prefix && !p.reduced[i];
  if (allow_leading && only_prefix && x.is_contiguous()) {
    p.leading = true;
    p.rows = x.detach();
    return p;
  }
  p.rows = permute(x.detach(), order).contiguous();
  return p;
}

}  // namespace

Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  const char* op = "sum";
  ReducePlan p = plan_reduce(op, x, dims, keepdim, /*allow_leading=*/true);
  Tensor out = empty(p.out, x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (p.leading) SEQBOAT_KERNEL(op, x.device(), T, sum_leading)(p.inner, p.outer, p.rows.ptr<T>(), out.ptr<T>());
    else SEQBOAT_KERNEL(op, x.device(), T, sum_rows)(p.outer, p.inner, p.rows.ptr<T>(), out.ptr<T>());
  });
  Shape in_shape = x.shape(), keep = p.out_keep;
  return record(op, out, {x}, [in_shape, keep](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{expand(reshape(g, keep), in_shape).contiguous()};
  });
}

Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  ReducePlan p = plan_reduce("mean", x, dims, keepdim);
  if (p.inner == 0) fail(fmt::format("mean: reducing {} over an empty dimension", shape_str(x.shape())));
  return mul_scalar(sum(x, dims, keepdim), 1.0 / static_cast<double>(p.inner));
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  const char* op = "max";
  ReducePlan p = plan_reduce(op, x, {dim}, keepdim);
  if (p.inner == 0) fail(fmt::format("max: reducing {} over an empty dimension", shape_str(x.shape())));
  Tensor index = empty(p.out, DType::Int64, x.device());
  Tensor out = empty(p.out, x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, x.device(), T, max_rows)(p.outer, p.inner, p.rows.ptr<T>(), out.ptr<T>(), index.ptr<int64_t>());
  });
  int64_t d = normalize_dim(op, dim, x.dim());
  Shape in_shape = x.shape(), keep = p.out_keep;
  return record(op, out, {x}, [in_shape, keep, index, d](const Tensor& g, const std::vector<bool>&) {
    // Place g at the argmax of each row: build (outer, inner) rows, then undo
    // the permutation that moved `d` last.
    Tensor gk = reshape(g, keep).contiguous();
    int64_t inner = in_shape[d];
    Tensor rows = empty({gk.numel(), inner}, g.dtype(), g.device());
    dispatch_float(g.dtype(), "max_backward", [&](auto tag) {
      using T = decltype(tag);
      SEQBOAT_KERNEL("max_backward", g.device(), T, place_at_index)
      (gk.numel(), inner, index.ptr<int64_t>(), gk.ptr<T>(), rows.ptr<T>());
    });
    Shape moved;
    for (int64_t i = 0; i < static_cast<int64_t>(in_shape.size()); ++i)
      if (i != d) moved.push_back(in_shape[i]);
    moved.push_back(inner);
    std::vector<int64_t> inverse(in_shape.size());
    for (int64_t i = 0, k = 0; i < static_cast<int64_t>(in_shape.size()); ++i)
      inverse[i] = i == d ? static_cast<int64_t>(in_shape.size()) - 1 : k++;
    return std::vector<Tensor>{permute(reshape(rows, moved), inverse).contiguous()};
  });
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  const char* op = "argmax";
  ReducePlan p = plan_reduce(op, x, {dim}, keepdim);
  if (p.inner == 0) fail(fmt::format("argmax: reducing {} over an empty dimension", shape_str(x.shape())));
  Tensor index = empty(p.out, DType::Int64, x.device());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, x.device(), T, max_rows)(p.outer, p.inner, p.rows.ptr<T>(), nullptr, index.ptr<int64_t>());
  });
  return index;
}

namespace {

// The cumulative sum of x along dim d (from the end when `reverse`): d moved
// last and made contiguous, one row per remaining index.
Tensor cumsum_along(const char* op, const Tensor& x, int64_t d, bool reverse) {
  const int64_t last = x.dim() - 1, inner = x.shape()[d];
  const Tensor rows = transpose(x, d, last).contiguous();
  Tensor out = empty(rows.shape(), x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, x.device(), T, cumsum_rows)
    (inner == 0 ? 0 : rows.numel() / inner, inner, reverse, rows.ptr<T>(), out.ptr<T>());
  });
  return transpose(out, d, last).contiguous();
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim) {
  const char* op = "cumsum";
  check_float(op, "x", x);
  if (x.dim() == 0) fail("cumsum: x must have at least one dimension, got a scalar");
  const int64_t d = normalize_dim(op, dim, x.dim());
  Tensor out = cumsum_along(op, x.detach(), d, false);  // term 1
  return record(op, out, {x}, [d](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{cumsum_along("cumsum_backward", g, d, true)};  // term 2
  });
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  if (lead < 0) fail(fmt::format("sum_to: cannot reduce shape {} to {}", shape_str(grad.shape()), shape_str(shape)));
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < lead; ++i) dims.push_back(i);
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 1 && grad.shape()[lead + i] != 1) dims.push_back(lead + static_cast<int64_t>(i));
  Tensor r = dims.empty() ? grad : sum(grad, dims, true);
  return reshape(r, shape);
}

}  // namespace seqboat
