// ops/tensor_methods.cpp: the bodies of Tensor's differentiable methods
// (declared in tensor/tensor.h so that `x.reshape(...)` reads naturally):
// each forwards to the op of the same name, and backward() runs the autograd
// engine with the ops layer's gradient arithmetic.
#include <fmt/format.h>

#include "autograd/autograd.h"
#include "ops/elementwise.h"
#include "ops/shape.h"

namespace seqboat {

namespace {

Tensor add_gradients(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor copy_gradient(const Tensor& g) { return g.clone(); }

}  // namespace

void Tensor::backward(const Tensor& cotangent, bool retain_graph) const {
  if (!requires_grad()) fail("backward: the tensor does not require grad (no input of its graph has requires_grad)");
  Tensor seed;
  if (!cotangent.defined()) {
    if (numel() != 1)
      fail(fmt::format("backward: output of shape {} is not a scalar; pass a cotangent of the same shape",
                       shape_str(shape())));
    seed = ones(shape(), dtype(), device());
  } else if (cotangent.shape() != shape()) {
    fail(fmt::format("backward: cotangent shape {} does not match output shape {}", shape_str(cotangent.shape()),
                     shape_str(shape())));
  } else {
    seed = cotangent.detach().to(dtype()).to(device());
  }
  run_backward(*this, seed, retain_graph, GradientMath{&add_gradients, &copy_gradient});
}

Tensor Tensor::contiguous() const { return seqboat::contiguous(*this); }

Tensor Tensor::clone() const {
  // A contiguous tensor would be returned as is by contiguous(); force a copy.
  Tensor out = empty(shape(), dtype(), device());
  copy_into(out, detach());
  return record("clone", out, {*this},
                [](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::to(DType dt) const { return cast(*this, dt); }
Tensor Tensor::to(Device dev) const { return to_device(*this, dev); }

Tensor Tensor::reshape(const Shape& s) const { return seqboat::reshape(*this, s); }
Tensor Tensor::view(const Shape& s) const {
  if (!is_contiguous())
    fail(fmt::format("view: tensor of shape {} is not contiguous; use reshape", shape_str(shape())));
  return seqboat::reshape(*this, s);
}
Tensor Tensor::permute(const std::vector<int64_t>& o) const { return seqboat::permute(*this, o); }
Tensor Tensor::transpose(int64_t a, int64_t b) const { return seqboat::transpose(*this, a, b); }
Tensor Tensor::narrow(int64_t d, int64_t st, int64_t len) const { return seqboat::narrow(*this, d, st, len); }
Tensor Tensor::unsqueeze(int64_t d) const { return seqboat::unsqueeze(*this, d); }
Tensor Tensor::squeeze(int64_t d) const { return seqboat::squeeze(*this, d); }
Tensor Tensor::expand(const Shape& s) const { return seqboat::expand(*this, s); }

}  // namespace seqboat
