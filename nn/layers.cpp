// nn/layers.cpp: basic modules (see layers.h).
#include "nn/layers.h"

#include <fmt/format.h>

#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduce.h"
#include "ops/nn_ops.h"
#include "tensor/safe_text.h"

namespace seqboat::nn {

Linear::Linear(int64_t in, int64_t out, bool has_bias, DType dt, Generator& gen) {
  weight = rand_trunc_normal({out, in}, 0.0, 0.02, -0.04, 0.04, dt, &gen);
  register_parameter("weight", &weight);
  if (has_bias) {
    bias = zeros({out}, dt);
    register_parameter("bias", &bias);
  }
}

Tensor Linear::forward(const Tensor& x) const { return linear(x, weight, bias); }

LayerNorm::LayerNorm(int64_t dim, bool affine, DType dt, double eps_) : eps(eps_) {
  if (affine) {
    weight = ones({dim}, dt);
    bias = zeros({dim}, dt);
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
  }
}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, weight, bias, eps); }

BatchNorm::BatchNorm(int64_t channels, bool affine, DType dt, double eps_, double momentum_)
    : eps(eps_), momentum(momentum_) {
  if (affine) {
    weight = ones({channels}, dt);
    bias = zeros({channels}, dt);
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
  }
  running_mean = zeros({channels}, dt);
  running_var = ones({channels}, dt);
  num_batches_tracked = zeros({}, DType::Int64);
  register_buffer("running_mean", &running_mean);
  register_buffer("running_var", &running_var);
  register_buffer("num_batches_tracked", &num_batches_tracked);
}

Tensor BatchNorm::forward(const Tensor& x) {
  if (is_training()) num_batches_tracked.set({}, num_batches_tracked.item() + 1);
  return batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
}

ScaleNorm::ScaleNorm(bool affine, DType dt, double eps_) : eps(eps_) {
  if (affine) {
    scalar = ones({1}, dt);
    register_parameter("scalar", &scalar);
  }
}

Tensor ScaleNorm::forward(const Tensor& x) const {
  Tensor y = mul(x, pow(add_scalar(mean(square(x), {-1}, true), eps), -0.5));
  return scalar.defined() ? mul(y, scalar) : y;
}

NormType parse_norm_type(const std::string& s) {
  if (s == "layernorm") return NormType::LayerNorm;
  if (s == "batchnorm") return NormType::BatchNorm;
  if (s == "scalenorm") return NormType::ScaleNorm;
  fail(fmt::format("norm_type {} is not one of: layernorm, batchnorm, scalenorm", quote_text(s)));
}

SequenceNorm::SequenceNorm(NormType t, int64_t dim, bool affine, DType dt) : type(t) {
  if (t == NormType::LayerNorm) ln = register_module("norm", std::make_shared<LayerNorm>(dim, affine, dt));
  else if (t == NormType::ScaleNorm) sn = register_module("norm", std::make_shared<ScaleNorm>(affine, dt));
  else bn = register_module("norm", std::make_shared<BatchNorm>(dim, affine, dt));
}

Tensor SequenceNorm::forward(const Tensor& x) {
  if (ln) return ln->forward(x);
  if (sn) return sn->forward(x);
  return bn->forward(x);
}

Tensor Dropout::forward(const Tensor& x, DropoutRng& rng) const {
  if (!is_training() || p == 0.0) return x;
  return dropout(x, p, true, rng);
}

Embedding::Embedding(int64_t num, int64_t dim, DType dt, Generator& gen, double std) {
  weight = rand_normal({num, dim}, 0.0, std, dt, &gen);
  register_parameter("weight", &weight);
}

Tensor Embedding::forward(const Tensor& index) const { return embedding(weight, index); }

}  // namespace seqboat::nn
