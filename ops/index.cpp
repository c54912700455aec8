// ops/index.cpp: gather, scatter, scatter_add, index_select, where and
// masked_fill on strided CPU buffers (formulas in ops/index.h). The four
// index ops share one walk: for every position p of the index it visits the
// element p[d := idx[p]] of the indexed tensor and the element p of the other.
#include "ops/index.h"

#include "autograd/autograd.h"
#include "ops/elementwise.h"
#include "ops/kernel_util.h"
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

// Calls f(indexed_offset, plain_offset) for every position p of iv, where
// indexed_offset locates p[d := idx[p]] in `indexed` and plain_offset locates
// p in `plain`. Throws on an index outside [0, indexed.size(d)).
template <class F>
void walk(const char* op, const IndexView& iv, int64_t d, const Tensor& indexed, const Tensor& plain, F f) {
  Shape ist = indexed.strides();
  const int64_t step = ist[d], size = indexed.shape()[d];
  ist[d] = 0;
  const int64_t* pi = iv.index.data<int64_t>();
  std::array<Shape, 3> st{iv.strides, ist, plain.strides()};
  for_each_offset<3>(iv.shape, st, [&](const std::array<int64_t, 3>& o) {
    const int64_t k = pi[o[0]];
    if (k < 0 || k >= size) fail(fmt::format("{}: index {} out of range for dim {} of size {}", op, k, d, size));
    f(o[1] + k * step, o[2]);
  });
}

// to[p] = from[p[d := idx[p]]]
void gather_into(const char* op, const Tensor& to, const Tensor& from, const IndexView& iv, int64_t d) {
  dispatch_float(from.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* pt = to.data<T>();
    const T* pf = from.data<T>();
    walk(op, iv, d, from, to, [&](int64_t fo, int64_t too) { pt[too] = pf[fo]; });
    return 0;
  });
}

// to[p[d := idx[p]]] = from[p]  (+= when accumulate)
void scatter_into(const char* op, const Tensor& to, const Tensor& from, const IndexView& iv, int64_t d,
                  bool accumulate) {
  dispatch_float(from.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* pt = to.data<T>();
    const T* pf = from.data<T>();
    if (accumulate) walk(op, iv, d, to, from, [&](int64_t too, int64_t fo) { pt[too] += pf[fo]; });
    else walk(op, iv, d, to, from, [&](int64_t too, int64_t fo) { pt[too] = pf[fo]; });
    return 0;
  });
}

// to[p[d := idx[p]]] = 0
void zero_indexed(const char* op, const Tensor& to, const IndexView& iv, int64_t d) {
  dispatch_float(to.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* pt = to.data<T>();
    walk(op, iv, d, to, to, [&](int64_t too, int64_t) { pt[too] = T(0); });
    return 0;
  });
}

// scatter writes each output element at most once; `out` is contiguous.
void check_unique(const char* op, const IndexView& iv, int64_t d, const Tensor& out) {
  std::vector<uint8_t> seen(static_cast<size_t>(out.numel()), 0);
  walk(op, iv, d, out, out, [&](int64_t o, int64_t) {
    if (seen[o]++)
      fail(fmt::format("{}: index {} repeats within a slice along dim {} (index shape {}); scatter needs unique "
                       "indices per slice, use scatter_add to accumulate",
                       op, (o / out.strides()[d]) % out.shape()[d], d, shape_str(iv.shape)));
  });
}

// r = g where (mask != 0) == keep, 0 elsewhere; mask broadcast to g's shape.
Tensor mask_grad(const char* op, const Tensor& g, const Tensor& mask, bool keep) {
  Tensor r = empty(g.shape(), g.dtype());
  dispatch_float(g.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* pr = r.data<T>();
    const T* pg = g.data<T>();
    const uint8_t* pm = mask.data<uint8_t>();
    std::array<Shape, 3> st{r.strides(), g.strides(), broadcast_strides(mask, g.shape())};
    for_each_offset<3>(g.shape(), st, [&](const std::array<int64_t, 3>& o) {
      pr[o[0]] = (pm[o[2]] != 0) == keep ? pg[o[1]] : T(0);
    });
    return 0;
  });
  return r;
}

void check_typed(const char* op, const char* arg, const Tensor& t, DType dt) {
  check_defined(op, arg, t);
  check_cpu(op, t);
  check_dtype(op, arg, t, dt);
}

// index.size(k) <= t.size(k) for every k != skip (skip = -1: every k).
void check_index_fits(const char* op, const Tensor& index, const char* arg, const Tensor& t, int64_t skip) {
  if (index.dim() != t.dim())
    fail(fmt::format("{}: index of shape {} must have as many dims as {} of shape {}", op, shape_str(index.shape()),
                     arg, shape_str(t.shape())));
  for (int64_t k = 0; k < t.dim(); ++k)
    if (k != skip && index.shape()[k] > t.shape()[k])
      fail(fmt::format("{}: index of shape {} is larger than {} of shape {} at dim {}", op,
                       shape_str(index.shape()), arg, shape_str(t.shape()), k));
}

// Shared checks of scatter and scatter_add; returns the normalised dim.
int64_t check_scatter_args(const char* op, const Tensor& base, int64_t dim, const Tensor& index, const Tensor& src) {
  check_float(op, "base", base);
  check_float(op, "src", src);
  check_same_dtype(op, base, src);
  check_typed(op, "index", index, DType::Int64);
  const int64_t d = normalize_dim(op, dim, base.dim());
  check_index_fits(op, index, "src", src, -1);
  check_index_fits(op, index, "base", base, d);
  return d;
}

}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  check_float(op, "x", x);
  check_typed(op, "index", index, DType::Int64);
  const int64_t d = normalize_dim(op, dim, x.dim());
  check_index_fits(op, index, "x", x, d);
  Tensor out = empty(index.shape(), x.dtype());
  gather_into(op, out, x, view_of(index), d);
  if (!any_requires_grad({&x})) return out;
  Tensor idx = index.detach();
  Shape xs = x.shape();
  return record(op, out, {x}, [idx, xs, d](const Tensor& g, const std::vector<bool>&) {
    Tensor gx = zeros(xs, g.dtype());
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
      gsrc = zeros(ss, g.dtype());
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
      gsrc = zeros(ss, g.dtype());
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
  const int64_t d = normalize_dim(op, dim, x.dim());
  Shape os = x.shape();
  os[d] = index.size(0);
  Tensor out = empty(os, x.dtype());
  gather_into(op, out, x, select_view(index, os, d), d);
  if (!any_requires_grad({&x})) return out;
  Tensor idx = index.detach();
  Shape xs = x.shape();
  return record(op, out, {x}, [idx, xs, os, d](const Tensor& g, const std::vector<bool>&) {
    Tensor gx = zeros(xs, g.dtype());  // index_add of g's slices
    scatter_into("index_select_backward", gx, g, select_view(idx, os, d), d, true);
    return std::vector<Tensor>{gx};
  });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const char* op = "where";
  check_typed(op, "cond", cond, DType::UInt8);
  check_float(op, "a", a);
  check_float(op, "b", b);
  check_same_dtype(op, a, b);
  const Shape os = broadcast_shapes(op, broadcast_shapes(op, cond.shape(), a.shape()), b.shape());
  Tensor out = empty(os, a.dtype());
  dispatch_float(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* po = out.data<T>();
    const T *pa = a.data<T>(), *pb = b.data<T>();
    const uint8_t* pc = cond.data<uint8_t>();
    std::array<Shape, 4> st{out.strides(), broadcast_strides(cond, os), broadcast_strides(a, os),
                            broadcast_strides(b, os)};
    for_each_offset<4>(os, st, [&](const std::array<int64_t, 4>& o) { po[o[0]] = pc[o[1]] ? pa[o[2]] : pb[o[3]]; });
    return 0;
  });
  if (!any_requires_grad({&a, &b})) return out;
  Tensor c = cond.detach();
  Shape sa = a.shape(), sb = b.shape();
  return record(op, out, {a, b}, [c, sa, sb](const Tensor& g, const std::vector<bool>& need) {
    Tensor ga = need[0] ? sum_to(mask_grad("where_backward", g, c, true), sa) : Tensor();
    Tensor gb = need[1] ? sum_to(mask_grad("where_backward", g, c, false), sb) : Tensor();
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  const char* op = "masked_fill";
  check_float(op, "x", x);
  check_typed(op, "mask", mask, DType::UInt8);
  if (broadcast_shapes(op, x.shape(), mask.shape()) != x.shape())
    fail(fmt::format("masked_fill: mask of shape {} does not broadcast to x of shape {}", shape_str(mask.shape()),
                     shape_str(x.shape())));
  Tensor out = empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* po = out.data<T>();
    const T* px = x.data<T>();
    const T v = static_cast<T>(value);
    const uint8_t* pm = mask.data<uint8_t>();
    std::array<Shape, 3> st{out.strides(), x.strides(), broadcast_strides(mask, x.shape())};
    for_each_offset<3>(x.shape(), st, [&](const std::array<int64_t, 3>& o) { po[o[0]] = pm[o[2]] ? v : px[o[1]]; });
    return 0;
  });
  if (!any_requires_grad({&x})) return out;
  Tensor m = mask.detach();
  return record(op, out, {x}, [m](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{mask_grad("masked_fill_backward", g, m, false)};
  });
}

}  // namespace seqboat
