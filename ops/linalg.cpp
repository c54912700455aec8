// ops/linalg.cpp: matmul and linear on Eigen's GEMM (formulas in ops/linalg.h).
#include "ops/linalg.h"

#include <Eigen/Core>

#include "autograd/autograd.h"
#include "ops/elementwise.h"
#include "ops/kernel_util.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace seqboat {

namespace {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MapC = Eigen::Map<const RowMat<T>>;
template <class T>
using MapM = Eigen::Map<RowMat<T>>;

// C[M,N] = op(A) op(B) for contiguous row-major A, B (transposes are views in Eigen).
template <class T>
void gemm(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb, bool accumulate) {
  MapM<T> C(c, m, n);
  auto run = [&](const auto& A, const auto& B) {
    if (accumulate) C.noalias() += A * B;
    else C.noalias() = A * B;
  };
  if (!ta && !tb) run(MapC<T>(a, m, k), MapC<T>(b, k, n));
  else if (ta && !tb) run(MapC<T>(a, k, m).transpose(), MapC<T>(b, k, n));
  else if (!ta && tb) run(MapC<T>(a, m, k), MapC<T>(b, n, k).transpose());
  else run(MapC<T>(a, k, m).transpose(), MapC<T>(b, n, k).transpose());
}

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
  Tensor out = empty(so, a.dtype());
  const int64_t nb = shape_numel(batch);
  dispatch_float(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < nb; ++i)
      gemm<T>(ac.data<T>() + i * m * k, bc.data<T>() + i * k * n, out.data<T>() + i * m * n, m, n, k, false, false,
              false);
    return 0;
  });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined("matmul", "a", a);
  check_defined("matmul", "b", b);
  check_cpu("matmul", a);
  check_cpu("matmul", b);
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
  check_cpu(op, x);
  check_cpu(op, weight);
  check_cpu(op, bias);
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
  Shape out_shape = x.shape();
  out_shape.back() = outf;
  Tensor out = empty(out_shape, x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    MapM<T> Y(out.data<T>(), rows, outf);
    if (bias.defined()) {
      Tensor bc = bias.detach().contiguous();
      Y.rowwise() = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(bc.data<T>(), outf);
    } else {
      Y.setZero();
    }
    gemm<T>(xc.data<T>(), wc.data<T>(), out.data<T>(), rows, outf, in, false, true, true);  // Y += X W^T
    return 0;
  });
  if (!any_requires_grad({&x, &weight, &bias})) return out;
  Shape xs = x.shape();
  bool has_bias = bias.defined();
  return record(op, out, {x, weight, bias},
                [xc, wc, xs, rows, in, outf, has_bias](const Tensor& g, const std::vector<bool>& need) {
                  Tensor gc = g.contiguous();
                  std::vector<Tensor> grads(3);
                  dispatch_float(g.dtype(), "linear_backward", [&](auto tag) {
                    using T = decltype(tag);
                    if (need[0]) {  // dx = g W
                      grads[0] = empty(xs, g.dtype());
                      gemm<T>(gc.data<T>(), wc.data<T>(), grads[0].data<T>(), rows, in, outf, false, false, false);
                    }
                    if (need[1]) {  // dW = g^T x
                      grads[1] = empty({outf, in}, g.dtype());
                      gemm<T>(gc.data<T>(), xc.data<T>(), grads[1].data<T>(), outf, in, rows, true, false, false);
                    }
                    if (has_bias && need[2]) {  // dc = sum over rows of g
                      grads[2] = empty({outf}, g.dtype());
                      Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(grads[2].data<T>(), outf) =
                          MapC<T>(gc.data<T>(), rows, outf).colwise().sum();
                    }
                    return 0;
                  });
                  return grads;
                });
}

}  // namespace seqboat
