// nn/task_heads.cpp: positions, pair features, GELU (see task_heads.h).
#include "nn/task_heads.h"

#include <fmt/format.h>

#include <cmath>

#include "ops/elementwise.h"
#include "ops/shape.h"

namespace seqboat::nn {

Tensor gelu_tanh(const Tensor& x) {
  const double c = std::sqrt(2.0 / M_PI);
  Tensor inner = mul_scalar(add(x, mul_scalar(pow(x, 3.0), 0.044715)), c);
  return mul(mul_scalar(x, 0.5), add_scalar(tanh(inner), 1.0));
}

ScaledSinusoidal::ScaledSinusoidal(int64_t dim, DType dt) : dim_(dim) {
  if (dim <= 0 || dim % 2) fail(fmt::format("ScaledSinusoidal: the width must be even and positive, got {}", dim));
  scale = full({1}, 1.0 / std::sqrt(static_cast<double>(dim)), dt);
  register_parameter("scale", &scale);
}

Tensor ScaledSinusoidal::forward(const Tensor& x) const {
  if (x.dim() != 3 || x.size(2) != dim_)
    fail(fmt::format("ScaledSinusoidal: input must be (B, L, {}), got {}", dim_, shape_str(x.shape())));
  const int64_t L = x.size(1), half = dim_ / 2;
  std::vector<double> table(static_cast<size_t>(L * dim_));
  for (int64_t j = 0; j < half; ++j) {
    const double f = std::pow(10000.0, -2.0 * static_cast<double>(j) / static_cast<double>(dim_));
    for (int64_t t = 0; t < L; ++t) {
      table[t * dim_ + j] = std::sin(static_cast<double>(t) * f);
      table[t * dim_ + half + j] = std::cos(static_cast<double>(t) * f);
    }
  }
  Tensor e = from_vector(table, {L, dim_}, x.dtype()).to(x.device());
  return add(x, mul(e, scale));
}

Tensor pair_features(const Tensor& u, const Tensor& v) {
  if (u.shape() != v.shape())
    fail(fmt::format("pair_features: u {} and v {} differ", shape_str(u.shape()), shape_str(v.shape())));
  return concat({u, v, mul(u, v), sub(u, v)}, -1);
}

}  // namespace seqboat::nn
