// train/golden.h: checking the modules against a golden file (docs/semantics.md
// section 5) made by the official PyTorch code: build the module named in the
// metadata from its config, load `param.*`, run forward and backward (train
// mode, cotangent `output_grad.y`) in `dtype` on `device`, and compare every
// `output.*`, `grad.*`, `buffer_after.*` and `route.*` tensor. The error of a
// tensor is max|got - ref| / max(1, max|ref|). Used by `seqboat parity` and
// the tests.
#pragma once

#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace seqboat::train {

struct GoldenCheck {
  double worst = 0;                   // the largest error over the compared tensors
  std::vector<std::string> failures;  // "name err=..." beyond `tol`, or what is missing
  bool passed() const { return failures.empty(); }
};

// Throws (naming the problem) when the file cannot be read or is not a
// golden file (no module, config or input).
GoldenCheck check_golden_file(const std::string& path, DType dtype, Device device, double tol);

}  // namespace seqboat::train
