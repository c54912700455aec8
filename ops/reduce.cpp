// ops/reduce.cpp: sum, mean, max over dimensions (formulas in ops/reduce.h).
//
// Kernel strategy: move the reduced dims last (a permuted view), make that
// contiguous, and reduce each row of `inner` elements. Simple and exact; the
// hot reductions of the model (layer norm, softmax) have fused kernels.
#include "ops/reduce.h"

#include <algorithm>
#include <limits>

#include "autograd/autograd.h"
#include "ops/elementwise.h"
#include "ops/kernel_util.h"
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
  check_cpu(op, x);
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
  ReducePlan p = plan_reduce("sum", x, dims, keepdim, /*allow_leading=*/true);
  Tensor out = dispatch_float(x.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    Tensor o = empty(p.out, x.dtype());
    const T* px = p.rows.template data<T>();
    T* po = o.template data<T>();
    if (p.leading) {  // add whole rows in order: the same sums, in the same order, without a transpose
      std::fill(po, po + p.outer, T(0));
      for (int64_t i = 0; i < p.inner; ++i)
        for (int64_t r = 0; r < p.outer; ++r) po[r] += px[i * p.outer + r];
      return o;
    }
    for (int64_t r = 0; r < p.outer; ++r) {
      T acc = 0;
      for (int64_t i = 0; i < p.inner; ++i) acc += px[r * p.inner + i];
      po[r] = acc;
    }
    return o;
  });
  Shape in_shape = x.shape(), keep = p.out_keep;
  return record("sum", out, {x}, [in_shape, keep](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{expand(reshape(g, keep), in_shape).contiguous()};
  });
}

Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  ReducePlan p = plan_reduce("mean", x, dims, keepdim);
  if (p.inner == 0) fail(fmt::format("mean: reducing {} over an empty dimension", shape_str(x.shape())));
  return mul_scalar(sum(x, dims, keepdim), 1.0 / static_cast<double>(p.inner));
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  ReducePlan p = plan_reduce("max", x, {dim}, keepdim);
  if (p.inner == 0) fail(fmt::format("max: reducing {} over an empty dimension", shape_str(x.shape())));
  Tensor index = empty(p.out, DType::Int64);
  Tensor out = dispatch_float(x.dtype(), "max", [&](auto tag) {
    using T = decltype(tag);
    Tensor o = empty(p.out, x.dtype());
    const T* px = p.rows.template data<T>();
    for (int64_t r = 0; r < p.outer; ++r) {
      const T* row = px + r * p.inner;
      int64_t best = 0;
      for (int64_t i = 1; i < p.inner; ++i)
        if (row[i] > row[best]) best = i;  // first maximal element wins ties
      o.template data<T>()[r] = row[best];
      index.data<int64_t>()[r] = best;
    }
    return o;
  });
  int64_t d = normalize_dim("max", dim, x.dim());
  Shape in_shape = x.shape(), keep = p.out_keep;
  return record("max", out, {x}, [in_shape, keep, index, d](const Tensor& g, const std::vector<bool>&) {
    // Place g at the argmax of each row: build (outer, inner) rows, then undo
    // the permutation that moved `d` last.
    Tensor gk = reshape(g, keep).contiguous();
    int64_t inner = in_shape[d];
    Tensor rows = zeros({gk.numel(), inner}, g.dtype());
    dispatch_float(g.dtype(), "max_backward", [&](auto tag) {
      using T = decltype(tag);
      for (int64_t r = 0; r < gk.numel(); ++r)
        rows.template data<T>()[r * inner + index.data<int64_t>()[r]] = gk.template data<T>()[r];
      return 0;
    });
    Shape moved;
    std::vector<int64_t> order;
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
  ReducePlan p = plan_reduce("argmax", x, {dim}, keepdim);
  Tensor index = empty(p.out, DType::Int64);
  dispatch_float(x.dtype(), "argmax", [&](auto tag) {
    using T = decltype(tag);
    const T* px = p.rows.template data<T>();
    for (int64_t r = 0; r < p.outer; ++r) {
      const T* row = px + r * p.inner;
      int64_t best = 0;
      for (int64_t i = 1; i < p.inner; ++i)
        if (row[i] > row[best]) best = i;
      index.data<int64_t>()[r] = best;
    }
    return 0;
  });
  return index;
}

}  // namespace seqboat
