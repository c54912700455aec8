// ops/gradcheck.h: numeric proof of a backward.
//
// gradcheck(fn, inputs) compares the full Jacobian of fn at `inputs` computed
// two ways: analytically (one backward per output element, one-hot cotangent)
// and numerically (central differences, (f(x+eps) - f(x-eps)) / 2eps, one
// pair of forwards per input element). Every float64 input with
// requires_grad is checked; other inputs (indices, masks) pass through.
// An element passes when |analytic - numeric| <= atol + rtol * |numeric|.
// It also checks that a zero cotangent gives zero gradients and that two
// backward runs with the same cotangent give bitwise identical gradients.
// Inputs may live on any device (the op table runs it on CUDA too).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace seqboat {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  bool check_zero_cotangent = true;
  bool check_repeat = true;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;           // on failure: input, element, analytic, numeric
  int64_t elements_checked = 0;  // Jacobian entries compared
  double max_abs_error = 0;
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace seqboat
