// nn/layers.h: basic modules: Linear, LayerNorm, BatchNorm, ScaleNorm, SequenceNorm
// (the reference's `norm.norm.*` wrapper), Dropout and Embedding.
#pragma once

#include <string>

#include "nn/module.h"
#include "tensor/random.h"

namespace seqboat::nn {

// y = x W^T + c, W (out, in). Init: W ~ truncated N(0, 0.02^2) within +-2 std, c = 0.
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias, DType dt, Generator& gen);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;
};

class LayerNorm : public Module {
 public:
  LayerNorm(int64_t dim, bool affine, DType dt, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;
  double eps;
};

// Batch norm over channel-last input (..., C): statistics over all other
// positions (padding included, as the reference does).
class BatchNorm : public Module {
 public:
  BatchNorm(int64_t channels, bool affine, DType dt, double eps = 1e-5, double momentum = 0.1);
  Tensor forward(const Tensor& x);
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  double eps, momentum;
};

// Scale norm: y = scalar * x / sqrt(mean(x^2 over the last dim) + eps), one
// learned scalar (init 1; "scalar", the reference's name), composed from
// differentiable ops.
class ScaleNorm : public Module {
 public:
  ScaleNorm(bool affine, DType dt, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;
  Tensor scalar;
  double eps;
};

enum class NormType { LayerNorm, BatchNorm, ScaleNorm };
NormType parse_norm_type(const std::string& s);

// The reference wraps its norm as `norm.norm`; this keeps the names.
class SequenceNorm : public Module {
 public:
  SequenceNorm(NormType type, int64_t dim, bool affine, DType dt);
  Tensor forward(const Tensor& x);
  NormType type;
  std::shared_ptr<LayerNorm> ln;
  std::shared_ptr<BatchNorm> bn;
  std::shared_ptr<ScaleNorm> sn;
};

class Dropout : public Module {
 public:
  explicit Dropout(double p) : p(p) {}
  Tensor forward(const Tensor& x, DropoutRng& rng) const;
  double p;
};

// Init: N(0, std^2).
class Embedding : public Module {
 public:
  Embedding(int64_t num, int64_t dim, DType dt, Generator& gen, double std = 0.02);
  Tensor forward(const Tensor& index) const;
  Tensor weight;
};

}  // namespace seqboat::nn
