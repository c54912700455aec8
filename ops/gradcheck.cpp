// ops/gradcheck.cpp: full-Jacobian comparison (see gradcheck.h). Works on
// inputs of any device: elements are perturbed and read through the tensor's
// element access, cotangents are made on the CPU and moved to the output's
// device.
#include "ops/gradcheck.h"

#include <fmt/format.h>

#include <cmath>

#include "autograd/autograd.h"

namespace seqboat {

namespace {

// The multi-index of row-major element `flat`.
std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    idx[i] = shape[i] ? flat % shape[i] : 0;
    flat = shape[i] ? flat / shape[i] : 0;
  }
  return idx;
}

std::string index_str(int64_t flat, const Shape& shape) {
  return fmt::format("[{}]", fmt::join(unravel(flat, shape), ", "));
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

// fn(inputs) as host values.
std::vector<double> eval(const GradcheckFn& fn, const std::vector<Tensor>& inputs) {
  NoGradGuard guard;
  return fn(inputs).to_vector();
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
      fail(fmt::format("gradcheck: input {} is {}; gradcheck needs float64 inputs", i, dtype_name(inputs[i].dtype())));

  Tensor y0;
  {
    NoGradGuard guard;
    y0 = fn(fresh_leaves(inputs)).detach();
  }
  if (y0.dtype() != DType::Float64) fail("gradcheck: the function's output must be float64");
  const int64_t m = y0.numel();
  // A cotangent with these host values, on the output's device.
  auto cotangent = [&](const std::vector<double>& values) {
    return from_vector(values, y0.shape(), DType::Float64).to(y0.device());
  };

  // Analytic Jacobian: row r = gradient of output element r.
  std::vector<std::vector<std::vector<double>>> rows(static_cast<size_t>(m));
  for (int64_t r = 0; r < m; ++r) {
    std::vector<double> one_hot(static_cast<size_t>(m), 0.0);
    one_hot[r] = 1.0;
    rows[r] = vjp(fn, inputs, cotangent(one_hot));
  }

  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    const int64_t n = inputs[i].numel();
    for (int64_t j = 0; j < n; ++j) {
      // Numeric column j: perturb element j of input i in place.
      std::vector<Tensor> plus = fresh_leaves(inputs), minus = fresh_leaves(inputs);
      const std::vector<int64_t> at = unravel(j, inputs[i].shape());
      plus[i].set(at, plus[i].at(at) + opt.eps);
      minus[i].set(at, minus[i].at(at) - opt.eps);
      const std::vector<double> yp = eval(fn, plus), ym = eval(fn, minus);
      for (int64_t r = 0; r < m; ++r) {
        double numeric = (yp[r] - ym[r]) / (2 * opt.eps);
        double analytic = rows[r][i][j];
        double err = std::fabs(analytic - numeric);
        res.max_abs_error = std::max(res.max_abs_error, err);
        ++res.elements_checked;
        if (!(err <= opt.atol + opt.rtol * std::fabs(numeric)) && res.ok) {
          res.ok = false;
          res.message = fmt::format(
              "Jacobian mismatch for input {} (shape {}) element {} and output element {} (output shape {}): "
              "analytic {:.10g}, numeric {:.10g}, |diff| {:.3g} > atol {} + rtol {} * |numeric|",
              i, shape_str(inputs[i].shape()), index_str(j, inputs[i].shape()), index_str(r, y0.shape()),
              shape_str(y0.shape()), analytic, numeric, err, opt.atol, opt.rtol);
        }
      }
    }
  }
  if (!res.ok) return res;

  if (opt.check_zero_cotangent) {
    auto g0 = vjp(fn, inputs, cotangent(std::vector<double>(static_cast<size_t>(m), 0.0)));
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
    std::vector<double> values(static_cast<size_t>(m));
    for (int64_t r = 0; r < m; ++r) values[r] = 0.5 + 0.25 * std::sin(1.7 * static_cast<double>(r));
    Tensor cot = cotangent(values);
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
