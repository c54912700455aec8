// ops/index.cpp: gather, scatter, scatter_add and index_select (formulas in
// ops/index.h). The four index ops share one walk
// (kernels/index.h): for every position p of the index it visits the
// element p[d := idx[p]] of the indexed tensor and the element p of the other.
// Indices are checked here, before any kernel runs.
#include "ops/index.h"

#include <limits>

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace seqboat {

namespace {

// The positions of a walk and where idx[p] is stored: the index tensor itself
// for gather/scatter; for index_select a 1-d index read through zero strides
// on every dim but d.
struct IndexView {
  Tensor index;  // Int64; keeps the data alive
  Shape shape;
  Shape strides;
};

IndexView view_of(const Tensor& index) { return {index, index.shape(), index.strides()}; }

IndexView select_view(const Tensor& index, const Shape& out_shape, int64_t d) {
  Shape st(out_shape.size(), 0);
  st[d] = index.strides()[0];
  return {index, out_shape, st};
}

// Every index in [0, size): the error names the op, the value and the dim.
void check_index_range(const char* op, const Tensor& index, int64_t d, int64_t size) {
  Tensor ic = index.contiguous();
  const int64_t bad = SEQBOAT_UNTYPED_KERNEL(op, ic.device(), first_out_of_range)(
      ic.numel(), ic.ptr<int64_t>(), size, /*ignore=*/std::numeric_limits<int64_t>::min());
  if (bad >= 0)
    fail(fmt::format("{}: index {} out of range for dim {} of size {}", op,
                     static_cast<int64_t>(ic.reshape({-1}).at({bad})), d, size));
}

// The walk over iv along dim d of `indexed`, with `plain` the other tensor.
kernels::IndexWalk make_walk(const char* op, const IndexView& iv, int64_t d, const Tensor& indexed,
                             const Tensor& plain) {
  kernels::IndexWalk w;
  w.shape = strided_shape(op, iv.shape);
  w.index = strides_of(iv.strides);
  Shape ist = indexed.strides();
  w.step = ist[d];
  ist[d] = 0;
  w.indexed = strides_of(ist);
  w.plain = strides_of(plain.strides());
  return w;
}

// to[p] = from[p[d := idx[p]]]
void gather_into(const char* op, const Tensor& to, const Tensor& from, const IndexView& iv, int64_t d) {
  dispatch_float(from.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, to.device(), T, gather)
    (make_walk(op, iv, d, from, to), iv.index.ptr<int64_t>(), from.ptr<T>(), to.ptr<T>());
  });
}

// to[p[d := idx[p]]] = from[p]  (+= when accumulate)
void scatter_into(const char* op, const Tensor& to, const Tensor& from, const IndexView& iv, int64_t d,
                  bool accumulate) {
  dispatch_float(from.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, to.device(), T, scatter)
    (make_walk(op, iv, d, to, from), iv.index.ptr<int64_t>(), from.ptr<T>(), to.ptr<T>(), accumulate);
  });
}

// to[p[d := idx[p]]] = 0
void zero_indexed(const char* op, const Tensor& to, const IndexView& iv, int64_t d) {
  dispatch_float(to.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, to.device(), T, zero_indexed)
    (make_walk(op, iv, d, to, to), iv.index.ptr<int64_t>(), to.ptr<T>());
  });
}

// scatter writes each output element at most once; `out` is contiguous.
void check_unique(const char* op, const IndexView& iv, int64_t d, const Tensor& out) {
  const int64_t o = SEQBOAT_UNTYPED_KERNEL(op, out.device(), first_repeat)(make_walk(op, iv, d, out, out),
                                                                          iv.index.ptr<int64_t>(), out.numel());
  if (o >= 0)
    fail(
        fmt::format("{}: index {} repeats within a slice along dim {} (index shape {}); scatter needs unique "
                    "indices per slice, use scatter_add to accumulate",
                    op, (o / out.strides()[d]) % out.shape()[d], d, shape_str(iv.shape)));
}

void check_typed(const char* op, const char* arg, const Tensor& t, DType dt) {
  check_defined(op, arg, t);
  check_dtype(op, arg, t, dt);
}

// index.size(k) <= t.size(k) for every k != skip (skip = -1: every k).
void check_index_fits(const char* op, const Tensor& index, const char* arg, const Tensor& t, int64_t skip) {
  if (index.dim() != t.dim())
    fail(fmt::format("{}: index of shape {} must have as many dims as {} of shape {}", op, shape_str(index.shape()),
                     arg, shape_str(t.shape())));
  for (int64_t k = 0; k < t.dim(); ++k)
    if (k != skip && index.shape()[k] > t.shape()[k])
      fail(fmt::format("{}: index of shape {} is larger than {} of shape {} at dim {}", op, shape_str(index.shape()),
                       arg, shape_str(t.shape()), k));
}

// Shared checks of scatter and scatter_add; returns the normalised dim.
int64_t check_scatter_args(const char* op, const Tensor& base, int64_t dim, const Tensor& index, const Tensor& src) {
  check_float(op, "base", base);
  check_float(op, "src", src);
  check_same_dtype(op, base, src);
  check_typed(op, "index", index, DType::Int64);
  common_device(op, {&base, &index, &src});
  const int64_t d = normalize_dim(op, dim, base.dim());
  check_index_fits(op, index, "src", src, -1);
  check_index_fits(op, index, "base", base, d);
  check_index_range(op, index, d, base.shape()[d]);
  return d;
}

}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  check_float(op, "x", x);
  check_typed(op, "index", index, DType::Int64);
  common_device(op, {&x, &index});
  const int64_t d = normalize_dim(op, dim, x.dim());
  check_index_fits(op, index, "x", x, d);
  check_index_range(op, index, d, x.shape()[d]);
  Tensor out = empty(index.shape(), x.dtype(), x.device());
  gather_into(op, out, x, view_of(index), d);
  if (!any_requires_grad({&x})) return out;
  Tensor idx = index.detach();
  Shape xs = x.shape();
  return record(op, out, {x}, [idx, xs, d](const Tensor& g, const std::vector<bool>&) {
    Tensor gx = zeros(xs, g.dtype(), g.device());
    scatter_into("gather_backward", gx, g, view_of(idx), d, true);
    return std::vector<Tensor>{gx};
  });
}

Tensor scatter(const Tensor& base, int64_t dim, const Tensor& index, const Tensor& src) {
  const char* op = "scatter";
  const int64_t d = check_scatter_args(op, base, dim, index, src);
  Tensor out = base.detach().clone();
  check_unique(op, view_of(index), d, out);
  scatter_into(op, out, src, view_of(index), d, false);
  if (!any_requires_grad({&base, &src})) return out;
  Tensor idx = index.detach();
  Shape ss = src.shape();
  return record(op, out, {base, src}, [idx, ss, d](const Tensor& g, const std::vector<bool>& need) {
    Tensor gbase, gsrc;
    if (need[0]) {  // g with the overwritten positions zeroed
      gbase = g.clone();
      zero_indexed("scatter_backward", gbase, view_of(idx), d);
    }
    if (need[1]) {  // gather(g) into the src shape
      gsrc = zeros(ss, g.dtype(), g.device());
      gather_into("scatter_backward", gsrc, g, view_of(idx), d);
    }
    return std::vector<Tensor>{gbase, gsrc};
  });
}

Tensor scatter_add(const Tensor& base, int64_t dim, const Tensor& index, const Tensor& src) {
  const char* op = "scatter_add";
  const int64_t d = check_scatter_args(op, base, dim, index, src);
  Tensor out = base.detach().clone();
  scatter_into(op, out, src, view_of(index), d, true);
  if (!any_requires_grad({&base, &src})) return out;
  Tensor idx = index.detach();
  Shape ss = src.shape();
  return record(op, out, {base, src}, [idx, ss, d](const Tensor& g, const std::vector<bool>& need) {
    Tensor gsrc;
    if (need[1]) {
      gsrc = zeros(ss, g.dtype(), g.device());
      gather_into("scatter_add_backward", gsrc, g, view_of(idx), d);
    }
    return std::vector<Tensor>{need[0] ? g : Tensor(), gsrc};
  });
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "index_select";
  check_float(op, "x", x);
  check_typed(op, "index", index, DType::Int64);
  check_dim(op, "index", index, 1);
  common_device(op, {&x, &index});
  const int64_t d = normalize_dim(op, dim, x.dim());
  check_index_range(op, index, d, x.shape()[d]);
  Shape os = x.shape();
  os[d] = index.size(0);
  Tensor out = empty(os, x.dtype(), x.device());
  gather_into(op, out, x, select_view(index, os, d), d);
  if (!any_requires_grad({&x})) return out;
  Tensor idx = index.detach();
  Shape xs = x.shape();
  return record(op, out, {x}, [idx, xs, os, d](const Tensor& g, const std::vector<bool>&) {
    Tensor gx = zeros(xs, g.dtype(), g.device());  // index_add of g's slices
    scatter_into("index_select_backward", gx, g, select_view(idx, os, d), d, true);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace seqboat
