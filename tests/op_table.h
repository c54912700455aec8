// tests/op_table.h: the one table of differentiable ops (in the spirit of
// ggml's test-backend-ops). Each case builds its inputs (on the CPU, float64)
// from a seeded generator and applies the op. tests/test_ops.cpp runs every
// case in two modes, each case its own doctest subcase:
//   grad    gradcheck in float64 (central differences vs the backward), on the
//           CPU and, when a GPU is present, on CUDA;
//   parity  forward and backward on every other device against the CPU, in
//           float64 and float32, within the case's tolerance.
// A forward-only case (add_forward: an op without a gradient, such as an
// optimizer step, a decoding step or an integer copy) runs in parity mode only.
// With kernel profiling on, the cases also prove the table's coverage: every
// kernel slot a backend fills must be called by some case (test_ops.cpp).
// Case functions must build any tensor of their own on the device and dtype of
// their inputs (x.device(), x.dtype()), so the same case runs everywhere.
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

// How far a device may be from the CPU in parity mode: max |a - b| over
// max(1, max |b|), for outputs and gradients.
struct ParityTolerance {
  double f64 = 1e-10;
  double f32 = 1e-4;
};

struct OpCase {
  std::string name;  // "family/variant"
  MakeInputs make_inputs;
  GradcheckFn fn;
  GradcheckOptions options;
  ParityTolerance parity;
  bool differentiable = true;  // false: parity mode only (add_forward)
};

class OpTable {
 public:
  void add(std::string name, MakeInputs make, GradcheckFn fn, GradcheckOptions options = {},
           ParityTolerance parity = {}) {
    cases_.push_back({std::move(name), std::move(make), std::move(fn), options, parity, true});
  }
  // A case without a gradient: its output is compared across devices, never gradchecked.
  void add_forward(std::string name, MakeInputs make, GradcheckFn fn, ParityTolerance parity = {}) {
    cases_.push_back({std::move(name), std::move(make), std::move(fn), {}, parity, false});
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
// Float64 tensor of N(0, scale^2) entries that needs no gradient (inputs of
// forward-only cases: inference ops refuse inputs that require one).
inline Tensor randn_data(const Shape& s, Generator& g, double scale = 1.0) {
  return rand_normal(s, 0.0, scale, DType::Float64, &g);
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

// (B, L) UInt8 padding mask: row 0 padded at t = 1 and the last position
// (when L >= 3), row 1 fully padded, any further rows unpadded.
inline Tensor padding_with_full_row(int64_t B, int64_t L) {
  Tensor m = zeros({B, L}, DType::UInt8);
  if (L >= 3) {
    m.set({0, 1}, 1);
    m.set({0, L - 1}, 1);
  }
  if (B > 1)
    for (int64_t t = 0; t < L; ++t) m.set({1, t}, 1);
  return m;
}

}  // namespace seqboat::testing

#define SEQBOAT_OP_CASES(name)                                         \
  static void name(::seqboat::testing::OpTable& table);                \
  static ::seqboat::testing::OpTableRegistrar name##_registrar(&name); \
  static void name([[maybe_unused]] ::seqboat::testing::OpTable& table)
