// autograd/gradcheck.cpp: full-Jacobian comparison (see gradcheck.h).
#include "autograd/gradcheck.h"

#include <fmt/format.h>

#include <cmath>

#include "autograd/autograd.h"
#include "ops/shape.h"

namespace seqboat {

namespace {

std::string index_str(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    idx[i] = shape[i] ? flat % shape[i] : 0;
    flat = shape[i] ? flat / shape[i] : 0;
  }
  return fmt::format("[{}]", fmt::join(idx, ", "));
}

// Fresh leaves: copies of the inputs, with requires_grad where the original had it.
std::vector<Tensor> fresh_leaves(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> out;
  for (const Tensor& t : inputs) {
    if (!t.defined()) {
      out.push_back(t);
      continue;
    }
    Tensor c = t.detach().clone();
    if (t.requires_grad()) c.requires_grad_(true);
    out.push_back(c);
  }
  return out;
}

Tensor eval(const GradcheckFn& fn, const std::vector<Tensor>& inputs) {
  NoGradGuard guard;
  return fn(inputs).detach().contiguous();
}

// Gradients of <fn(inputs), cotangent> for every input requiring grad.
std::vector<std::vector<double>> vjp(const GradcheckFn& fn, const std::vector<Tensor>& inputs, const Tensor& cot) {
  std::vector<Tensor> leaves = fresh_leaves(inputs);
  Tensor y = fn(leaves);
  std::vector<std::vector<double>> grads(inputs.size());
  if (y.requires_grad()) y.backward(cot);
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    Tensor g = leaves[i].grad();
    grads[i] = g.defined() ? g.to_vector() : std::vector<double>(static_cast<size_t>(inputs[i].numel()), 0.0);
  }
  return grads;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  GradcheckResult res;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad() && inputs[i].dtype() != DType::Float64)
      fail(fmt::format("gradcheck: input {} is {}; gradcheck needs float64 inputs", i,
                       dtype_name(inputs[i].dtype())));

  std::vector<Tensor> base = fresh_leaves(inputs);
  Tensor y0 = eval(fn, base);
  if (y0.dtype() != DType::Float64) fail("gradcheck: the function's output must be float64");
  const int64_t m = y0.numel();

  // Analytic Jacobian: row r = gradient of output element r.
  std::vector<std::vector<std::vector<double>>> rows(static_cast<size_t>(m));
  for (int64_t r = 0; r < m; ++r) {
    Tensor cot = zeros(y0.shape(), DType::Float64);
    cot.data<double>()[r] = 1.0;
    rows[r] = vjp(fn, inputs, cot);
  }

  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    const int64_t n = inputs[i].numel();
    for (int64_t j = 0; j < n; ++j) {
      // Numeric column j: perturb element j of input i in place.
      std::vector<Tensor> plus = fresh_leaves(inputs), minus = fresh_leaves(inputs);
      Tensor pc = plus[i].detach(), mc = minus[i].detach();
      pc.data<double>()[j] += opt.eps;
      mc.data<double>()[j] -= opt.eps;
      Tensor yp = eval(fn, plus), ym = eval(fn, minus);
      for (int64_t r = 0; r < m; ++r) {
        double numeric = (yp.data<double>()[r] - ym.data<double>()[r]) / (2 * opt.eps);
        double analytic = rows[r][i][j];
        double err = std::fabs(analytic - numeric);
        res.max_abs_error = std::max(res.max_abs_error, err);
        ++res.elements_checked;
        if (!(err <= opt.atol + opt.rtol * std::fabs(numeric)) && res.ok) {
          res.ok = false;
          res.message = fmt::format(
              "Jacobian mismatch for input {} (shape {}) element {} and output element {} (output shape {}): "
              "analytic {:.10g}, numeric {:.10g}, |diff| {:.3g} > atol {} + rtol {} * |numeric|",
              i, shape_str(inputs[i].shape()), index_str(j, inputs[i].shape()), index_str(r, y0.shape()), shape_str(y0.shape()), analytic,
              numeric, err, opt.atol, opt.rtol);
        }
      }
    }
  }
  if (!res.ok) return res;

  if (opt.check_zero_cotangent) {
    auto g0 = vjp(fn, inputs, zeros(y0.shape(), DType::Float64));
    for (size_t i = 0; i < g0.size(); ++i)
      for (size_t j = 0; j < g0[i].size(); ++j)
        if (g0[i][j] != 0.0) {
          res.ok = false;
          res.message = fmt::format("zero cotangent gave a nonzero gradient {} for input {} element {}", g0[i][j], i,
                                    index_str(static_cast<int64_t>(j), inputs[i].shape()));
          return res;
        }
  }
  if (opt.check_repeat) {
    Tensor cot = empty(y0.shape(), DType::Float64);
    for (int64_t r = 0; r < m; ++r) cot.data<double>()[r] = 0.5 + 0.25 * std::sin(1.7 * static_cast<double>(r));
    auto a = vjp(fn, inputs, cot), b = vjp(fn, inputs, cot);
    for (size_t i = 0; i < a.size(); ++i)
      for (size_t j = 0; j < a[i].size(); ++j)
        if (a[i][j] != b[i][j]) {
          res.ok = false;
          res.message = fmt::format("two backward runs differ for input {} element {}: {} vs {}", i,
                                    index_str(static_cast<int64_t>(j), inputs[i].shape()), a[i][j], b[i][j]);
          return res;
        }
  }
  return res;
}

}  // namespace seqboat
