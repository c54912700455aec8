// ops/linalg.cpp: matmul and linear (formulas in ops/linalg.h); the products
// are the `gemm`, `linear_forward` and `linear_backward` kernels.
#include "ops/linalg.h"

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace seqboat {

namespace {

// Batched a @ b after broadcasting batch dims; inputs already have >= 2 dims.
Tensor bmm_forward(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes("matmul", ba, bb);
  Shape sa = batch, sb = batch, so = batch;
  sa.insert(sa.end(), {m, k});
  sb.insert(sb.end(), {k, n});
  so.insert(so.end(), {m, n});
  Tensor ac = expand(a.detach(), sa).contiguous(), bc = expand(b.detach(), sb).contiguous();
  Tensor out = empty(so, a.dtype(), a.device());
  kernels::GemmShape g;
  g.batch = shape_numel(batch);
  g.m = m;
  g.n = n;
  g.k = k;
  g.stride_a = m * k;
  g.stride_b = k * n;
  g.stride_c = m * n;
  dispatch_float(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL("matmul", a.device(), T, gemm)(g, ac.ptr<T>(), bc.ptr<T>(), out.ptr<T>());
  });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined("matmul", "a", a);
  check_defined("matmul", "b", b);
  common_device("matmul", {&a, &b});
  check_same_dtype("matmul", a, b);
  if (a.dim() < 1 || b.dim() < 1) fail("matmul: 0-d tensors are not matrices");
  // Vectors are promoted to matrices and the added dim removed afterwards.
  Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
  Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
  if (a2.size(-1) != b2.size(-2))
    fail(fmt::format("matmul: inner dimensions differ, {} @ {}", shape_str(a.shape()), shape_str(b.shape())));
  Tensor out = bmm_forward(a2, b2);
  if (any_requires_grad({&a2, &b2})) {
    Tensor as = a2.detach(), bs = b2.detach();
    out = record("matmul", out, {a2, b2}, [as, bs](const Tensor& g, const std::vector<bool>& need) {
      Tensor ga, gb;
      if (need[0]) ga = sum_to(bmm_forward(g, transpose(bs, -1, -2)), as.shape());
      if (need[1]) gb = sum_to(bmm_forward(transpose(as, -1, -2), g), bs.shape());
      return std::vector<Tensor>{ga, gb};
    });
  }
  if (a.dim() == 1) out = squeeze(out, -2);
  if (b.dim() == 1) out = squeeze(out, -1);
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const char* op = "linear";
  check_defined(op, "x", x);
  check_defined(op, "weight", weight);
  const Device dev = common_device(op, {&x, &weight, &bias});
  check_dim(op, "weight", weight, 2);
  check_same_dtype(op, x, weight);
  if (x.dim() < 1 || x.size(-1) != weight.size(1))
    fail(fmt::format("linear: input {} does not end in in_features {} of weight {}", shape_str(x.shape()),
                     weight.size(1), shape_str(weight.shape())));
  const int64_t in = weight.size(1), outf = weight.size(0);
  if (bias.defined()) {
    check_same_dtype(op, x, bias);
    if (bias.dim() != 1 || bias.size(0) != outf)
      fail(fmt::format("linear: bias {} does not match out_features {}", shape_str(bias.shape()), outf));
  }
  const int64_t rows = x.numel() / std::max<int64_t>(in, 1);
  Tensor xc = x.detach().contiguous(), wc = weight.detach().contiguous();
  Tensor bc = bias.defined() ? bias.detach().contiguous() : Tensor();
  Shape out_shape = x.shape();
  out_shape.back() = outf;
  Tensor out = empty(out_shape, x.dtype(), dev);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, linear_forward)
    (rows, in, outf, xc.ptr<T>(), wc.ptr<T>(), bc.defined() ? bc.ptr<T>() : nullptr, out.ptr<T>());
  });
  if (!any_requires_grad({&x, &weight, &bias})) return out;
  Shape xs = x.shape();
  bool has_bias = bias.defined();
  return record(op, out, {x, weight, bias},
                [xc, wc, xs, rows, in, outf, has_bias](const Tensor& g, const std::vector<bool>& need) {
                  Tensor gc = g.contiguous();
                  std::vector<Tensor> grads(3);
                  if (need[0]) grads[0] = empty(xs, g.dtype(), g.device());
                  if (need[1]) grads[1] = empty({outf, in}, g.dtype(), g.device());
                  if (has_bias && need[2]) grads[2] = empty({outf}, g.dtype(), g.device());
                  dispatch_float(g.dtype(), "linear_backward", [&](auto tag) {
                    using T = decltype(tag);
                    auto out_ptr = [](const Tensor& t) { return t.defined() ? t.ptr<T>() : nullptr; };
                    SEQBOAT_KERNEL("linear_backward", g.device(), T, linear_backward)
                    (rows, in, outf, xc.ptr<T>(), wc.ptr<T>(), gc.ptr<T>(), out_ptr(grads[0]), out_ptr(grads[1]),
                     out_ptr(grads[2]));
                  });
                  return grads;
                });
}

}  // namespace seqboat
