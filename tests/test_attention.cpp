// tests/test_attention.cpp: local attention and the SMA ops beyond gradcheck:
// the fused local_attention equals the full-matrix reference on random sizes,
// float32 agrees with float64, results do not depend on the thread count,
// edge cases (S = 0, queries without a visible key), sma_plan / sma_router /
// sma_compress / sma_extract against hand-computed values, and bad arguments
// throw messages that name the op and the shapes.
#include <doctest/doctest.h>

#include "ops/backend.h"
#include "test_util.h"

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>

#include "attention_reference.h"
#include "ops/attention.h"
#include "ops/sma.h"
#include "tensor/random.h"

namespace seqboat {

namespace {

Tensor normal(const Shape& s, Generator& g, double scale = 1.0) {
  return rand_normal(s, 0.0, scale, DType::Float64, &g);
}

double max_abs_difference(const Tensor& a, const Tensor& b) {
  std::vector<double> va = a.to_vector(), vb = b.to_vector();
  REQUIRE(va.size() == vb.size());
  double diff = 0;
  for (size_t i = 0; i < va.size(); ++i) diff = std::max(diff, std::abs(va[i] - vb[i]));
  return diff;
}

double max_abs(const Tensor& a) {
  double m = 0;
  for (double x : a.to_vector()) m = std::max(m, std::abs(x));
  return m;
}

// (B, S) UInt8 with P(1) = p; row `empty_row` (if >= 0) fully masked.
Tensor random_key_mask(int64_t B, int64_t S, double p, int64_t empty_row, Generator& g) {
  Tensor m = empty({B, S}, DType::UInt8);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) m.data<uint8_t>()[b * S + s] = b == empty_row || g.next_double() < p;
  return m;
}

// Increasing original positions with gaps 1..4.
Tensor increasing_positions(int64_t B, int64_t S, Generator& g) {
  Tensor pos = empty({B, S}, DType::Int64);
  for (int64_t b = 0; b < B; ++b) {
    int64_t p = 0;
    for (int64_t s = 0; s < S; ++s) {
      pos.data<int64_t>()[b * S + s] = p;
      p += 1 + static_cast<int64_t>(g.next_below(4));
    }
  }
  return pos;
}

struct AttnProblem {
  Tensor q, k, v, key_mask, positions, w;
  LocalAttentionOptions opt;
};

AttnProblem random_problem(int64_t B, int64_t S, int64_t Z, int64_t H, const LocalAttentionOptions& opt, int mask_kind,
                           bool bias, Generator& g) {
  AttnProblem p;
  p.q = normal({B, S, Z}, g);
  p.k = normal({B, S, Z}, g);
  p.v = normal({B, S, H}, g);
  if (mask_kind == 1) p.key_mask = random_key_mask(B, S, 0.3, -1, g);
  if (mask_kind == 2) p.key_mask = random_key_mask(B, S, 0.3, B - 1, g);
  p.positions = increasing_positions(B, S, g);
  if (bias) p.w = normal({2 * 6 - 1}, g, 0.5);  // M = 6: long sequences clamp
  p.opt = opt;
  return p;
}

Tensor fused(const AttnProblem& p) { return local_attention(p.q, p.k, p.v, p.key_mask, p.positions, p.w, p.opt); }
Tensor reference(const AttnProblem& p) {
  return testing::local_attention_reference(p.q, p.k, p.v, p.key_mask, p.positions, p.w, p.opt);
}

struct AttnGrads {
  Tensor out, dq, dk, dv, dw;
};

// Output and gradients of sum(out * cotangent), computed in dtype dt.
AttnGrads run_with_grads(const AttnProblem& p, DType dt, const Tensor& cotangent) {
  auto fresh_leaf = [dt](const Tensor& t) { return t.detach().to(dt).detach().requires_grad_(true); };
  Tensor q = fresh_leaf(p.q), k = fresh_leaf(p.k), v = fresh_leaf(p.v);
  Tensor w = p.w.defined() ? fresh_leaf(p.w) : Tensor();
  Tensor out = local_attention(q, k, v, p.key_mask, p.positions, w, p.opt);
  out.backward(cotangent.to(dt));
  return {out.detach(), q.grad(), k.grad(), v.grad(), w.defined() ? w.grad() : Tensor()};
}

using seqboat::testing::check_throws_mentioning;

Tensor u8(const std::vector<int>& values, const Shape& s) {
  Tensor m = empty(s, DType::UInt8);
  for (size_t i = 0; i < values.size(); ++i) m.data<uint8_t>()[i] = static_cast<uint8_t>(values[i]);
  return m;
}

std::vector<int64_t> as_i64(const Tensor& t) {
  std::vector<int64_t> out;
  for (double x : t.to_vector()) out.push_back(static_cast<int64_t>(x));
  return out;
}

}  // namespace

TEST_CASE("local_attention equals the full-matrix reference in float64") {
  Generator g(7);
  int compared = 0;
  for (int64_t S : {1, 2, 7, 19, 40})
    for (int64_t window : {0, 1, 3, 8, 50})
      for (AttnActivation act : {AttnActivation::Softmax, AttnActivation::Relu2})
        for (bool causal : {true, false})
          for (int mask_kind : {0, 1, 2})
            for (bool bias : {true, false}) {
              if (act == AttnActivation::Relu2 && window == 0) continue;
              AttnProblem p = random_problem(2, S, 4, 3, {window, causal, act}, mask_kind, bias, g);
              Tensor a = fused(p), b = reference(p);
              CHECK_MESSAGE(max_abs_difference(a, b) <= 1e-12,
                            "S " << S << " window " << window << " relu2 " << (act == AttnActivation::Relu2)
                                 << " causal " << causal << " mask " << mask_kind << " bias " << bias);
              ++compared;
            }
  CHECK(compared == 5 * 9 * 2 * 3 * 2);
}

TEST_CASE("local_attention: float32 agrees with float64 (forward and gradients)") {
  Generator g(11);
  for (AttnActivation act : {AttnActivation::Softmax, AttnActivation::Relu2})
    for (bool causal : {true, false}) {
      AttnProblem p = random_problem(2, 23, 8, 5, {4, causal, act}, 1, true, g);
      Tensor cot = normal({2, 23, 5}, g);
      AttnGrads d = run_with_grads(p, DType::Float64, cot), f = run_with_grads(p, DType::Float32, cot);
      CHECK(f.out.dtype() == DType::Float32);
      CHECK(max_abs_difference(f.out, d.out) <= 1e-4 * (1 + max_abs(d.out)));
      CHECK(max_abs_difference(f.dq, d.dq) <= 1e-4 * (1 + max_abs(d.dq)));
      CHECK(max_abs_difference(f.dk, d.dk) <= 1e-4 * (1 + max_abs(d.dk)));
      CHECK(max_abs_difference(f.dv, d.dv) <= 1e-4 * (1 + max_abs(d.dv)));
      CHECK(max_abs_difference(f.dw, d.dw) <= 1e-4 * (1 + max_abs(d.dw)));
    }
}

TEST_CASE("local_attention: results are bitwise identical for 1 and 4 threads") {
  Generator g(3);
  AttnProblem p = random_problem(2, 300, 16, 16, {20, false, AttnActivation::Softmax}, 1, true, g);
  Tensor cot = normal({2, 300, 16}, g);
  const int threads_before = cpu_threads();
  set_cpu_threads(1);
  AttnGrads one = run_with_grads(p, DType::Float64, cot);
  set_cpu_threads(4);
  AttnGrads four = run_with_grads(p, DType::Float64, cot);
  set_cpu_threads(threads_before);
  CHECK(max_abs_difference(one.out, four.out) == 0);
  CHECK(max_abs_difference(one.dq, four.dq) == 0);
  CHECK(max_abs_difference(one.dk, four.dk) == 0);
  CHECK(max_abs_difference(one.dv, four.dv) == 0);
  CHECK(max_abs_difference(one.dw, four.dw) == 0);
}

TEST_CASE("local_attention: a query without a visible key outputs 0 and gets no gradient") {
  Generator g(5);
  // Causal window 1: query 2 of row 0 sees keys 1 and 2, both invalid.
  AttnProblem p = random_problem(1, 4, 3, 2, {1, true, AttnActivation::Softmax}, 0, false, g);
  p.key_mask = u8({0, 1, 1, 0}, {1, 4});
  Tensor cot = zeros({1, 4, 2}, DType::Float64);
  cot.set({0, 2, 0}, 1.0);
  cot.set({0, 2, 1}, -2.0);
  AttnGrads r = run_with_grads(p, DType::Float64, cot);
  CHECK(r.out.at({0, 2, 0}) == 0.0);
  CHECK(r.out.at({0, 2, 1}) == 0.0);
  CHECK(max_abs(r.dq) == 0.0);
  CHECK(max_abs(r.dk) == 0.0);
  CHECK(max_abs(r.dv) == 0.0);
}

TEST_CASE("local_attention: a batch row without valid keys is unmasked for softmax, zero for relu2") {
  Generator g(9);
  AttnProblem p = random_problem(1, 5, 3, 2, {2, false, AttnActivation::Softmax}, 2, false, g);  // row 0 all invalid
  AttnProblem unmasked = p;
  unmasked.key_mask = Tensor();
  CHECK(max_abs_difference(fused(p), fused(unmasked)) == 0);
  p.opt.activation = AttnActivation::Relu2;
  CHECK(max_abs(fused(p)) == 0);
}

TEST_CASE("local_attention: S = 0 and a window longer than the sequence") {
  Generator g(1);
  AttnProblem empty_seq = random_problem(2, 0, 3, 2, {3, true, AttnActivation::Relu2}, 1, true, g);
  Tensor q = empty_seq.q.detach().requires_grad_(true);
  Tensor out =
      local_attention(q, empty_seq.k, empty_seq.v, empty_seq.key_mask, empty_seq.positions, empty_seq.w, empty_seq.opt);
  CHECK(out.shape() == Shape{2, 0, 2});
  out.backward(zeros({2, 0, 2}, DType::Float64));
  // A window far beyond S sees everything: same as window S - 1.
  AttnProblem p = random_problem(2, 6, 3, 2, {1000, false, AttnActivation::Softmax}, 1, true, g);
  AttnProblem clipped = p;
  clipped.opt.window = 5;
  CHECK(max_abs_difference(fused(p), fused(clipped)) == 0);
}

TEST_CASE("local_attention: bad arguments throw naming the op and the shapes") {
  Generator g(2);
  Tensor q = normal({2, 5, 4}, g), k = normal({2, 5, 4}, g), v = normal({2, 5, 3}, g);
  LocalAttentionOptions opt{2, true, AttnActivation::Softmax};
  check_throws_mentioning(
      [&] {
        local_attention(q, normal({2, 5, 3}, g), v, {}, {}, {}, opt);
      },
      {"local_attention", "[2, 5, 4]", "[2, 5, 3]"});
  check_throws_mentioning(
      [&] {
        local_attention(q, k, normal({2, 4, 3}, g), {}, {}, {}, opt);
      },
      {"local_attention", "v", "[2, 4, 3]"});
  check_throws_mentioning(
      [&] {
        local_attention(normal({2, 5}, g), k, v, {}, {}, {}, opt);
      },
      {"local_attention", "q", "[2, 5]"});
  check_throws_mentioning(
      [&] {
        local_attention(q, k, v, zeros({2, 4}, DType::UInt8), {}, {}, opt);
      },
      {"local_attention", "key_mask", "[2, 4]"});
  check_throws_mentioning(
      [&] {
        local_attention(q, k, v, zeros({2, 5}, DType::Float64), {}, {}, opt);
      },
      {"local_attention", "key_mask", "uint8"});
  check_throws_mentioning(
      [&] {
        local_attention(q, k, v, {}, zeros({2, 5}, DType::Float64), normal({5}, g), opt);
      },
      {"local_attention", "positions", "int64", "[2, 5]"});
  check_throws_mentioning([&] { local_attention(q, k, v, {}, {}, normal({5}, g), opt); },
                          {"local_attention", "positions", "[5]"});
  check_throws_mentioning(
      [&] {
        local_attention(q, k, v, {}, zeros({2, 5}, DType::Int64), normal({4}, g), opt);
      },
      {"local_attention", "rel_bias", "[4]"});
  check_throws_mentioning(
      [&] {
        local_attention(q, k, v, {}, {}, {}, {-1, true, AttnActivation::Softmax});
      },
      {"local_attention", "window", "-1", "[2, 5, 4]"});
  check_throws_mentioning(
      [&] {
        local_attention(q, k, v, {}, {}, {}, {0, true, AttnActivation::Relu2});
      },
      {"local_attention", "relu2", "window", "[2, 5, 4]"});
  check_throws_mentioning([&] { local_attention(q.to(DType::Float32), k, v, {}, {}, {}, opt); },
                          {"local_attention", "dtype", "[2, 5, 4]"});
  check_throws_mentioning([&] { local_attention(q, normal({2, 5, 3}, g), v, {}, {}, {}, opt); },
                          {"local_attention", "[2, 5, 3]"});
}

TEST_CASE("sma_plan: compressed order, uncompressed case, S = 0") {
  SUBCASE("compressed") {
    SmaPlan plan = sma_plan(u8({0, 1, 0, 1, 1, 0, /**/ 1, 0, 0, 0, 0, 0}, {2, 6}));
    CHECK(plan.compressed);
    CHECK(plan.batch == 2);
    CHECK(plan.length == 6);
    CHECK(plan.slots == 3);
    CHECK(as_i64(plan.slot_index) == std::vector<int64_t>{1, 3, 4, /**/ 0, 0, 0});
    CHECK(as_i64(plan.slot_valid) == std::vector<int64_t>{1, 1, 1, /**/ 1, 0, 0});
  }
  SUBCASE("a fully active row: not compressed") {
    SmaPlan plan = sma_plan(u8({1, 1, 1, /**/ 0, 1, 0}, {2, 3}));
    CHECK_FALSE(plan.compressed);
    CHECK(plan.slots == 3);
    CHECK(as_i64(plan.slot_index) == std::vector<int64_t>{0, 1, 2, /**/ 0, 1, 2});
    CHECK(as_i64(plan.slot_valid) == std::vector<int64_t>{1, 1, 1, /**/ 0, 1, 0});
  }
  SUBCASE("nothing active: S = 0") {
    SmaPlan plan = sma_plan(zeros({2, 4}, DType::UInt8));
    CHECK(plan.compressed);
    CHECK(plan.slots == 0);
    CHECK(plan.slot_index.shape() == Shape{2, 0});
  }
  check_throws_mentioning([] { sma_plan(zeros({2, 4}, DType::Int64)); }, {"sma_plan", "active", "[2, 4]"});
}

TEST_CASE("sma_compress / sma_extract move rows by the plan") {
  // x[b, t, c] = 10 b + t + 0.5 c
  Tensor x = empty({2, 4, 2}, DType::Float64);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 4; ++t)
      for (int64_t c = 0; c < 2; ++c) x.set({b, t, c}, 10.0 * b + t + 0.5 * c);
  SUBCASE("compressed") {
    SmaPlan plan = sma_plan(u8({0, 1, 0, 1, /**/ 0, 0, 1, 0}, {2, 4}));
    Tensor c = sma_compress(x, plan);
    CHECK(c.shape() == Shape{2, 2, 2});
    CHECK(c.to_vector() == std::vector<double>{1, 1.5, 3, 3.5, /**/ 12, 12.5, 0, 0});
    Tensor back = sma_extract(c, plan);
    CHECK(back.to_vector() == std::vector<double>{0, 0, 1, 1.5, 0, 0, 3, 3.5, /**/ 0, 0, 0, 0, 12, 12.5, 0, 0});
  }
  SUBCASE("uncompressed: compress copies, extract zeros inactive tokens") {
    SmaPlan plan = sma_plan(u8({1, 1, 1, 1, /**/ 0, 1, 0, 0}, {2, 4}));
    CHECK(max_abs_difference(sma_compress(x, plan), x) == 0);
    Tensor back = sma_extract(x, plan);
    CHECK(back.to_vector() == std::vector<double>{0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, /**/ 0, 0, 11, 11.5, 0, 0, 0, 0});
  }
  SUBCASE("S = 0: compress is empty, extract gives zeros") {
    SmaPlan plan = sma_plan(zeros({2, 4}, DType::UInt8));
    CHECK(sma_compress(x, plan).shape() == Shape{2, 0, 2});
    Tensor back = sma_extract(zeros({2, 0, 2}, DType::Float64), plan);
    CHECK(back.shape() == Shape{2, 4, 2});
    CHECK(max_abs(back) == 0);
  }
  SmaPlan plan = sma_plan(u8({0, 1, 0, 1, /**/ 0, 0, 1, 0}, {2, 4}));
  check_throws_mentioning([&] { sma_compress(zeros({2, 5, 2}, DType::Float64), plan); }, {"sma_compress", "[2, 5, 2]"});
  check_throws_mentioning([&] { sma_extract(zeros({2, 3, 2}, DType::Float64), plan); }, {"sma_extract", "[2, 3, 2]"});
}

TEST_CASE("sma_router: values by hand") {
  // tau = exp(log 2) = 2; P1 = sigmoid((u1 - u0) / 2).
  Tensor u = from_vector({0, 1, /**/ 2, 0, /**/ 1, 1, /**/ 0.5, 3.5, /**/ -1, 3}, {1, 5, 2});
  Tensor temp = from_vector({std::log(2.0)}, {1});
  auto sigmoid = [](double a) { return 1 / (1 + std::exp(-a)); };
  RouterOutput r = sma_router(u, temp, u8({0, 0, 0, 0, 1}, {1, 5}));
  CHECK(as_i64(r.active) == std::vector<int64_t>{1, 0, 0, 1, 0});  // tie (u0 == u1) is inactive; t = 4 is padding
  const std::vector<double> gate = r.gate.to_vector(), prob = r.prob.to_vector();
  CHECK(gate[0] == doctest::Approx(sigmoid(0.5)).epsilon(1e-14));
  CHECK(gate[1] == 0.0);
  CHECK(gate[2] == 0.0);
  CHECK(gate[3] == doctest::Approx(sigmoid(1.5)).epsilon(1e-14));
  CHECK(gate[4] == 0.0);
  CHECK(prob[0] == doctest::Approx(sigmoid(0.5)).epsilon(1e-14));
  CHECK(prob[1] == doctest::Approx(sigmoid(1.0)).epsilon(1e-14));
  CHECK(prob[2] == doctest::Approx(0.5).epsilon(1e-14));
  CHECK(prob[4] == doctest::Approx(sigmoid(2.0)).epsilon(1e-14));

  // Gradient of sum(gate) wrt temp: only active tokens, d sigmoid(d / tau) / dtemp = -s (1 - s) d / tau.
  Tensor ul = u.detach().requires_grad_(true), tl = temp.detach().requires_grad_(true);
  RouterOutput rg = sma_router(ul, tl, u8({0, 0, 0, 0, 1}, {1, 5}));
  rg.gate.backward(ones({1, 5}, DType::Float64));
  const double s0 = sigmoid(0.5), s3 = sigmoid(1.5);
  CHECK(tl.grad().item() == doctest::Approx(-s0 * (1 - s0) * 0.5 - s3 * (1 - s3) * 1.5).epsilon(1e-12));
  CHECK(ul.grad().at({0, 1, 0}) == 0.0);  // inactive: no gradient
  CHECK(ul.grad().at({0, 0, 1}) == doctest::Approx(s0 * (1 - s0) / 2).epsilon(1e-12));

  check_throws_mentioning(
      [&] {
        sma_router(zeros({1, 5, 3}, DType::Float64), temp, {});
      },
      {"sma_router", "u", "[1, 5, 3]"});
  check_throws_mentioning(
      [&] {
        sma_router(u, temp, zeros({1, 4}, DType::UInt8));
      },
      {"sma_router", "padding_mask", "[1, 4]"});
  check_throws_mentioning([&] { sma_router(u, from_vector({0, 0}, {2}), {}); }, {"sma_router", "temp", "[2]"});
}

}  // namespace seqboat
