// tests/op_table.h: the one table of differentiable ops (in the spirit of
// ggml's test-backend-ops). Each case builds its inputs from a seeded
// generator and applies the op; test_ops.cpp gradchecks every case in float64,
// and the CUDA parity test runs the same cases on both devices.
//
// Add a case in an op_table_*.cpp file:
//   SEQBOAT_OP_CASES(my_cases) {
//     table.add("relu/3d", [](Generator& g) { return std::vector<Tensor>{randn({2, 3, 4}, g)}; },
//               [](const std::vector<Tensor>& in) { return relu(in[0]); });
//   }
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ops/gradcheck.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace seqboat::testing {

using MakeInputs = std::function<std::vector<Tensor>(Generator&)>;

struct OpCase {
  std::string name;  // "family/variant"
  MakeInputs make_inputs;
  GradcheckFn fn;
  GradcheckOptions options;
};

class OpTable {
 public:
  void add(std::string name, MakeInputs make, GradcheckFn fn, GradcheckOptions options = {}) {
    cases_.push_back({std::move(name), std::move(make), std::move(fn), options});
  }
  const std::vector<OpCase>& cases() const { return cases_; }

 private:
  std::vector<OpCase> cases_;
};

OpTable& op_table();

struct OpTableRegistrar {
  explicit OpTableRegistrar(void (*fill)(OpTable&)) { fill(op_table()); }
};

// Float64 leaf that requires grad, N(0, scale^2) entries.
inline Tensor randn(const Shape& s, Generator& g, double scale = 1.0) {
  return rand_normal(s, 0.0, scale, DType::Float64, &g).requires_grad_(true);
}
// Float64 leaf in [lo, hi] (for log, sqrt, div denominators).
inline Tensor randu(const Shape& s, Generator& g, double lo, double hi) {
  return rand_uniform(s, lo, hi, DType::Float64, &g).requires_grad_(true);
}
// Float64 leaf whose entries stay at least `gap` away from 0 (relu kink).
inline Tensor randn_away_from_zero(const Shape& s, Generator& g, double gap = 0.05) {
  Tensor t = rand_normal(s, 0.0, 1.0, DType::Float64, &g);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (p[i] > -gap && p[i] < gap) p[i] = p[i] < 0 ? -gap - 0.1 : gap + 0.1;
  return t.requires_grad_(true);
}
// Int64 tensor of values in [0, n).
inline Tensor randint(const Shape& s, int64_t n, Generator& g) {
  Tensor t = empty(s, DType::Int64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = static_cast<int64_t>(g.next_below(n));
  return t;
}
// UInt8 mask with P(1) = p.
inline Tensor randmask(const Shape& s, double p, Generator& g) {
  Tensor t = empty(s, DType::UInt8);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<uint8_t>()[i] = g.next_double() < p;
  return t;
}

}  // namespace seqboat::testing

#define SEQBOAT_OP_CASES(name)                                                   \
  static void name(::seqboat::testing::OpTable& table);                          \
  static ::seqboat::testing::OpTableRegistrar name##_registrar(&name);           \
  static void name([[maybe_unused]] ::seqboat::testing::OpTable& table)
