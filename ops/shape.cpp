// ops/shape.cpp: views (shared storage) and data-movement copies, with
// backward (formulas in ops/shape.h).
#include "ops/shape.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"
#include "ops/reduce.h"

namespace seqboat {

// A new impl over the same storage (a view); the caller sets its geometry.
static Tensor make_view(const Tensor& x, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl()->storage;
  impl->offset = offset;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->dtype = x.dtype();
  return Tensor(impl);
}

void copy_into(const Tensor& dst, const Tensor& src) {
  const char* op = "copy_into";
  if (dst.shape() != src.shape() || dst.dtype() != src.dtype())
    fail(fmt::format("copy_into: destination {} {} vs source {} {}", dtype_name(dst.dtype()), shape_str(dst.shape()),
                     dtype_name(src.dtype()), shape_str(src.shape())));
  if (dst.device() != src.device()) {  // across devices: through contiguous bytes
    Tensor from = src.is_contiguous() ? src : contiguous(src.detach());
    if (dst.is_contiguous()) {
      copy_contiguous_bytes(dst, from);
      return;
    }
    Tensor staged = empty(src.shape(), src.dtype(), dst.device());
    copy_contiguous_bytes(staged, from);
    copy_into(dst, staged);
    return;
  }
  const kernels::StridedShape shape = strided_shape(op, src.shape());
  const kernels::Strides sd = strides_of(dst.strides()), ss = strides_of(src.strides());
  switch (src.dtype()) {
    case DType::Float32:
      return SEQBOAT_KERNEL(op, dst.device(), float, copy_strided)(shape, sd, dst.ptr<float>(), ss, src.ptr<float>());
    case DType::Float64:
      return SEQBOAT_KERNEL(op, dst.device(), double, copy_strided)(shape, sd, dst.ptr<double>(), ss,
                                                                    src.ptr<double>());
    case DType::Int64:
      return SEQBOAT_KERNEL(op, dst.device(), int64_t, copy_strided)(shape, sd, dst.ptr<int64_t>(), ss,
                                                                     src.ptr<int64_t>());
    case DType::UInt8:
      return SEQBOAT_KERNEL(op, dst.device(), uint8_t, copy_strided)(shape, sd, dst.ptr<uint8_t>(), ss,
                                                                     src.ptr<uint8_t>());
  }
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  copy_into(out, x.detach());
  return record("contiguous", out, {x},
                [](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{g}; });
}

Tensor cast(const Tensor& x, DType dt) {
  if (x.dtype() == dt) return x;
  const char* op = "to(dtype)";
  Tensor xc = x.detach().contiguous();
  Tensor out = empty(x.shape(), dt, x.device());
  const int64_t n = x.numel();
  switch (x.dtype()) {
    case DType::Float32: SEQBOAT_KERNEL(op, x.device(), float, cast)(n, xc.ptr<float>(), dt, out.raw_data()); break;
    case DType::Float64: SEQBOAT_KERNEL(op, x.device(), double, cast)(n, xc.ptr<double>(), dt, out.raw_data()); break;
    case DType::Int64: SEQBOAT_KERNEL(op, x.device(), int64_t, cast)(n, xc.ptr<int64_t>(), dt, out.raw_data()); break;
    case DType::UInt8: SEQBOAT_KERNEL(op, x.device(), uint8_t, cast)(n, xc.ptr<uint8_t>(), dt, out.raw_data()); break;
  }
  if (!is_floating(dt) || !is_floating(x.dtype())) return out;
  DType from = x.dtype();
  return record("cast", out, {x},
                [from](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{cast(g, from)}; });
}

Tensor to_device(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  Tensor out = empty(x.shape(), x.dtype(), device);
  copy_contiguous_bytes(out, x.detach().contiguous());
  Device from = x.device();
  return record("to_device", out, {x},
                [from](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{to_device(g, from)}; });
}

Tensor reshape(const Tensor& x, Shape shape) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) fail(fmt::format("reshape: more than one -1 in {}", shape_str(shape)));
      infer = static_cast<int64_t>(i);
    } else if (shape[i] < 0) {
      fail(fmt::format("reshape: negative dimension in {}", shape_str(shape)));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0)
      fail(fmt::format("reshape: cannot reshape {} into {}", shape_str(x.shape()), shape_str(shape)));
    shape[infer] = x.numel() / known;
  }
  if (shape_numel(shape) != x.numel())
    fail(fmt::format("reshape: cannot reshape {} ({} elements) into {}", shape_str(x.shape()), x.numel(),
                     shape_str(shape)));
  Tensor base = x.is_contiguous() ? x : contiguous(x);
  Tensor out = make_view(base, shape, contiguous_strides(shape), base.offset());
  Shape in_shape = x.shape();
  return record("reshape", out, {base}, [in_shape](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{reshape(g, in_shape)};
  });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& order) {
  const int64_t nd = x.dim();
  if (static_cast<int64_t>(order.size()) != nd)
    fail(fmt::format("permute: order of {} dims for a tensor of shape {}", order.size(), shape_str(x.shape())));
  std::vector<int64_t> inverse(order.size(), -1);
  Shape shape(nd), strides(nd);
  for (int64_t i = 0; i < nd; ++i) {
    int64_t d = normalize_dim("permute", order[i], nd);
    if (inverse[d] >= 0) fail(fmt::format("permute: dimension {} repeated in the order", d));
    inverse[d] = i;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  Tensor out = make_view(x, shape, strides, x.offset());
  return record("permute", out, {x}, [inverse](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{permute(g, inverse)};
  });
}

Tensor transpose(const Tensor& x, int64_t a, int64_t b) {
  std::vector<int64_t> order(x.dim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[normalize_dim("transpose", a, x.dim())], order[normalize_dim("transpose", b, x.dim())]);
  return permute(x, order);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  int64_t d = normalize_dim("narrow", dim, x.dim());
  if (start < 0 || length < 0 || start + length > x.shape()[d])
    fail(fmt::format("narrow: range [{}, {}) out of bounds for dim {} of shape {}", start, start + length, d,
                     shape_str(x.shape())));
  Shape shape = x.shape();
  shape[d] = length;
  Tensor out = make_view(x, shape, x.strides(), x.offset() + start * x.strides()[d]);
  Shape in_shape = x.shape();
  return record("narrow", out, {x}, [in_shape, d, start](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{pad(g, d, start, in_shape[d] - start - g.shape()[d])};
  });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = dim < 0 ? dim + x.dim() + 1 : dim;
  if (d < 0 || d > x.dim())
    fail(fmt::format("unsqueeze: dimension {} out of range for shape {}", dim, shape_str(x.shape())));
  Shape shape = x.shape(), strides = x.strides();
  int64_t st = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, st);
  Tensor out = make_view(x, shape, strides, x.offset());
  return record("unsqueeze", out, {x},
                [d](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{squeeze(g, d)}; });
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  int64_t d = normalize_dim("squeeze", dim, x.dim());
  if (x.shape()[d] != 1) fail(fmt::format("squeeze: dimension {} of shape {} is not 1", d, shape_str(x.shape())));
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  Tensor out = make_view(x, shape, strides, x.offset());
  return record("squeeze", out, {x},
                [d](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{unsqueeze(g, d)}; });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  if (static_cast<int64_t>(shape.size()) < x.dim())
    fail(fmt::format("expand: cannot expand {} to fewer dims {}", shape_str(x.shape()), shape_str(shape)));
  int64_t lead = static_cast<int64_t>(shape.size()) - x.dim();
  Shape out_shape(shape.size()), strides(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t j = static_cast<int64_t>(i) - lead;
    int64_t have = j >= 0 ? x.shape()[j] : 1;
    int64_t want = shape[i] == -1 ? have : shape[i];
    if (have != want && have != 1)
      fail(fmt::format("expand: cannot expand {} to {}", shape_str(x.shape()), shape_str(shape)));
    out_shape[i] = want;
    strides[i] = (j >= 0 && have == want) ? x.strides()[j] : 0;
  }
  Tensor out = make_view(x, out_shape, strides, x.offset());
  Shape in_shape = x.shape();
  return record("expand", out, {x}, [in_shape](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{sum_to(g, in_shape)};
  });
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) fail("concat: no tensors given");
  const Tensor& first = xs[0];
  int64_t d = normalize_dim("concat", dim, first.dim());
  Shape shape = first.shape();
  int64_t total = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    bool ok = x.dim() == first.dim() && x.dtype() == first.dtype() && x.device() == first.device();
    for (int64_t k = 0; ok && k < x.dim(); ++k) ok = k == d || x.shape()[k] == first.shape()[k];
    if (!ok)
      fail(fmt::format("concat: tensor {} has {} {} on {}, incompatible with {} {} on {} along dim {}", i,
                       dtype_name(x.dtype()), shape_str(x.shape()), device_name(x.device()), dtype_name(first.dtype()),
                       shape_str(first.shape()), device_name(first.device()), d));
    total += x.shape()[d];
  }
  shape[d] = total;
  Tensor out = empty(shape, first.dtype(), first.device());
  std::vector<int64_t> sizes;
  int64_t at = 0;
  for (const Tensor& x : xs) {
    copy_into(narrow(out, d, at, x.shape()[d]), x.detach());
    at += x.shape()[d];
    sizes.push_back(x.shape()[d]);
  }
  return record("concat", out, xs, [sizes, d](const Tensor& g, const std::vector<bool>& need) {
    std::vector<Tensor> grads(sizes.size());
    int64_t at = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (need[i]) grads[i] = narrow(g, d, at, sizes[i]).contiguous();
      at += sizes[i];
    }
    return grads;
  });
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  int64_t d = normalize_dim("split", dim, x.dim());
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) fail(fmt::format("split: negative size {} in the sizes", s));
    total += s;
  }
  if (total != x.shape()[d])
    fail(fmt::format("split: sizes sum to {} but dim {} of shape {} is {}", total, d, shape_str(x.shape()),
                     x.shape()[d]));
  std::vector<Tensor> out;
  int64_t at = 0;
  for (int64_t s : sizes) {
    Shape shape = x.shape();
    shape[d] = s;
    out.push_back(make_view(x, shape, x.strides(), x.offset() + at * x.strides()[d]));
    at += s;
  }
  // One node for all parts: the backward concatenates their cotangents (zeros
  // for a part that got none), one allocation instead of a padded copy per part.
  const Shape in_shape = x.shape();
  return record_multi(
      "split", out, {x}, [sizes, d, in_shape](const std::vector<Tensor>& grads, const std::vector<bool>&) {
        const Tensor& some = *std::find_if(grads.begin(), grads.end(), [](const Tensor& g) { return g.defined(); });
        Tensor dx = empty(in_shape, some.dtype(), some.device());
        int64_t at = 0;
        for (size_t k = 0; k < sizes.size(); ++k) {
          Tensor part = narrow(dx.detach(), d, at, sizes[k]);
          if (grads[k].defined()) copy_into(part, grads[k].detach());
          else copy_into(part, zeros(part.shape(), dx.dtype(), dx.device()));
          at += sizes[k];
        }
        return std::vector<Tensor>{dx};
      });
}

Tensor pad(const Tensor& x, int64_t dim, int64_t before, int64_t after, double value) {
  int64_t d = normalize_dim("pad", dim, x.dim());
  if (before < 0 || after < 0) fail(fmt::format("pad: negative padding ({}, {})", before, after));
  Shape shape = x.shape();
  shape[d] += before + after;
  Tensor out = full(shape, value, x.dtype(), x.device());
  copy_into(narrow(out.detach(), d, before, x.shape()[d]), x.detach());
  int64_t len = x.shape()[d];
  return record("pad", out, {x}, [d, before, len](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{narrow(g, d, before, len).contiguous()};
  });
}

}  // namespace seqboat
