// tests/test_nnops.cpp: forward values of the indexing and neural-network ops
// (ops/index.h, ops/nn_ops.h) against hand-computed numbers, batch_norm's
// running statistics, dropout's mask, and that bad arguments throw messages
// naming the op and the shapes. Gradients are checked by the op table.
#include <doctest/doctest.h>

#include <cmath>

#include "ops/backend.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "kernels/philox.h"
#include "ops/nn_ops.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "tensor/random.h"

using namespace seqboat;

namespace {

void check_close(const Tensor& t, const std::vector<double>& expect, double tol = 1e-6) {
  std::vector<double> v = t.to_vector();
  REQUIRE(v.size() == expect.size());
  for (size_t i = 0; i < v.size(); ++i) CHECK(v[i] == doctest::Approx(expect[i]).epsilon(tol));
}

}  // namespace

TEST_CASE("softmax and log_softmax of a small vector") {
  Tensor x = from_vector({1, 2, 3}, {3});
  check_close(softmax(x, 0), {0.09003057317038046, 0.24472847105479764, 0.6652409557748219});
  check_close(log_softmax(x, -1), {-2.4076059644443806, -1.4076059644443806, -0.40760596444438057});
  // Along dim 0 of a matrix: each column is normalised on its own.
  Tensor m = from_vector({1, 0, 2, 0, 3, 0}, {3, 2});
  check_close(narrow(softmax(m, 0), 1, 0, 1), {0.09003057317038046, 0.24472847105479764, 0.6652409557748219});
  check_close(narrow(softmax(m, 0), 1, 1, 1), {1.0 / 3, 1.0 / 3, 1.0 / 3});
}

TEST_CASE("log_softmax and softmax are stable for large inputs") {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tensor x = from_vector({1000, 1001, 1002}, {1, 3}, dt);
    check_close(log_softmax(x, 1), {-2.4076059644443806, -1.4076059644443806, -0.40760596444438057}, 1e-5);
    check_close(softmax(x, 1), {0.09003057317038046, 0.24472847105479764, 0.6652409557748219}, 1e-5);
    Tensor y = from_vector({1000, -1000}, {2}, dt);
    check_close(softmax(y, 0), {1.0, 0.0});
    CHECK(std::isfinite(log_softmax(y, 0).at({1})));
  }
}

TEST_CASE("cross_entropy value, ignored targets and the all-ignored case") {
  Tensor z = from_vector({1, 2, 3, 1, 1, 1}, {2, 3});
  // Row 0: lse - z[2] = 0.4076...; row 1: log 3.
  CHECK(cross_entropy(z, from_vector_i64({2, 0}, {2})).item() ==
        doctest::Approx((0.40760596444438057 + std::log(3.0)) / 2));
  CHECK(cross_entropy(z, from_vector_i64({2, -100}, {2})).item() == doctest::Approx(0.40760596444438057));
  CHECK(cross_entropy(z, from_vector_i64({5, 0}, {2}), 5).item() == doctest::Approx(std::log(3.0)));

  Tensor zg = z.detach().clone().requires_grad_();
  Tensor none = cross_entropy(zg, from_vector_i64({-100, -100}, {2}));
  CHECK(none.item() == 0.0);
  none.backward();
  check_close(zg.grad(), {0, 0, 0, 0, 0, 0});

  // d/dz of the mean loss: (softmax - onehot) / n on counted rows only.
  Tensor zh = z.detach().clone().requires_grad_();
  cross_entropy(zh, from_vector_i64({2, -100}, {2})).backward();
  check_close(zh.grad(), {0.09003057317038046, 0.24472847105479764, 0.6652409557748219 - 1, 0, 0, 0});
}

TEST_CASE("layer_norm output has mean 0 and variance 1 per row; affine applies after") {
  Generator g(3);
  Tensor x = rand_normal({4, 16}, 5.0, 3.0, DType::Float64, &g);
  Tensor y = layer_norm(x, Tensor(), Tensor());
  check_close(mean(y, {1}), {0, 0, 0, 0}, 1e-9);
  Tensor centred = mean(mul(y, y), {1});  // biased variance of a mean-0 row
  for (double v : centred.to_vector()) CHECK(v == doctest::Approx(1.0).epsilon(1e-5));
  Tensor w = full({16}, 2.0, DType::Float64), b = full({16}, 0.5, DType::Float64);
  Tensor ya = layer_norm(x, w, b);
  check_close(ya, add_scalar(mul_scalar(y, 2.0), 0.5).to_vector());
  // float32 agrees with float64.
  check_close(layer_norm(x.to(DType::Float32), Tensor(), Tensor()), y.to_vector(), 1e-4);
}

TEST_CASE("batch_norm training: batch statistics and one running-stat update") {
  // Channel 0: 1, 2, 3, 6 (mean 3, biased var 3.5, unbiased 14/3);
  // channel 1: 10, 20, 30, 40 (mean 25, biased var 125, unbiased 500/3).
  Tensor x = from_vector({1, 10, 2, 20, 3, 30, 6, 40}, {4, 2});
  Tensor rm = zeros({2}, DType::Float64), rv = ones({2}, DType::Float64);
  Tensor y = batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5);
  check_close(rm, {0.3, 2.5});
  check_close(rv, {0.9 + 0.1 * 14.0 / 3.0, 0.9 + 0.1 * 500.0 / 3.0});
  const double s0 = 1 / std::sqrt(3.5 + 1e-5), s1 = 1 / std::sqrt(125 + 1e-5);
  check_close(y, {-2 * s0, -15 * s1, -1 * s0, -5 * s1, 0, 5 * s1, 3 * s0, 15 * s1});

  // A 3-d input uses every position of the leading dims.
  Tensor x3 = reshape(x, {2, 2, 2});
  Tensor rm3 = zeros({2}, DType::Float64), rv3 = ones({2}, DType::Float64);
  Tensor w = from_vector({2, 1}, {2}), b = from_vector({0, 1}, {2});
  Tensor y3 = batch_norm(x3, w, b, rm3, rv3, true, 0.5, 1e-5);
  check_close(rm3, {1.5, 12.5});
  check_close(rv3, {0.5 + 0.5 * 14.0 / 3.0, 0.5 + 0.5 * 500.0 / 3.0});
  CHECK(y3.shape() == Shape{2, 2, 2});
  CHECK(y3.at({1, 1, 0}) == doctest::Approx(2 * 3 * s0));
  CHECK(y3.at({1, 1, 1}) == doctest::Approx(15 * s1 + 1));
}

TEST_CASE("batch_norm eval uses the running statistics and leaves them unchanged") {
  Tensor rm = from_vector({1, -1}, {2}), rv = from_vector({4, 0.25}, {2});
  Tensor w = from_vector({2, 1}, {2}), b = from_vector({0.5, 0}, {2});
  Tensor x = from_vector({3, 0}, {1, 2});  // one row is fine in eval mode
  Tensor y = batch_norm(x, w, b, rm, rv, false, 0.1, 1e-5);
  check_close(y, {2 * 2 / std::sqrt(4 + 1e-5) + 0.5, 1 / std::sqrt(0.25 + 1e-5)});
  check_close(rm, {1, -1});
  check_close(rv, {4, 0.25});
}

TEST_CASE("embedding looks up rows; repeated indices accumulate gradients") {
  Tensor w = from_vector({0, 1, 2, 3, 4, 5}, {3, 2}).requires_grad_();
  Tensor idx = from_vector_i64({2, 0, 1, 2}, {2, 2});
  Tensor y = embedding(w, idx);
  CHECK(y.shape() == Shape{2, 2, 2});
  check_close(y, {4, 5, 0, 1, 2, 3, 4, 5});
  sum(y).backward();
  check_close(w.grad(), {1, 1, 1, 1, 2, 2});
}

TEST_CASE("dropout: seeded mask, inverted scaling, rate, identity when off") {
  Tensor x = ones({100, 100}, DType::Float64);
  DropoutRng g1{42, 0}, g2{42, 0};
  Tensor a = dropout(x, 0.3, true, g1), b = dropout(x, 0.3, true, g2);
  CHECK(a.to_vector() == b.to_vector());
  CHECK(g1.offset == 1);  // one call drawn
  int64_t zeros_seen = 0;
  for (double v : a.to_vector()) {
    if (v == 0) ++zeros_seen;
    else CHECK(v == doctest::Approx(1 / 0.7));
  }
  const double rate = static_cast<double>(zeros_seen) / 10000;  // binomial sd 0.0046
  CHECK(rate > 0.27);
  CHECK(rate < 0.33);
  DropoutRng g3{43, 0};
  CHECK(dropout(x, 0.3, true, g3).to_vector() != a.to_vector());
  CHECK(dropout(x, 0.5, false, g3).to_vector() == x.to_vector());
  CHECK(dropout(x, 0.0, true, g3).to_vector() == x.to_vector());
  CHECK(g3.offset == 1);  // identity calls take no offset
}

TEST_CASE("dropout: the mask is a function of (seed, call offset, element index) only") {
  Tensor x = ones({7, 13}, DType::Float32);
  DropoutRng run{5, 0};
  Tensor first = dropout(x, 0.4, true, run), second = dropout(x, 0.4, true, run);
  CHECK(first.to_vector() != second.to_vector());  // each call its own offset
  DropoutRng at_one{5, 1};                         // continuing from a checkpoint at offset 1
  CHECK(dropout(x, 0.4, true, at_one).to_vector() == second.to_vector());
  // Element i of a (7, 13) mask equals element i of a flat (91) mask, and of
  // the first 91 elements of a longer one: it depends on i, not on the shape.
  DropoutRng flat{5, 0}, longer{5, 0};
  CHECK(dropout(ones({91}, DType::Float32), 0.4, true, flat).to_vector() == first.to_vector());
  std::vector<double> big = dropout(ones({200}, DType::Float32), 0.4, true, longer).to_vector();
  CHECK(std::vector<double>(big.begin(), big.begin() + 91) == first.to_vector());
  // Element i is kept exactly when its Philox draw is >= p.
  std::vector<double> v = first.to_vector();
  for (size_t i = 0; i < v.size(); ++i) CHECK((v[i] != 0) == (kernels::dropout_uniform(5, 0, i) >= 0.4));
}

TEST_CASE("dropout: Philox-4x32-10 matches the Random123 known-answer vectors") {
  // From Random123's kat_vectors (Salmon et al., SC'11): counter, key -> output.
  using kernels::Philox4x32;
  auto check = [](Philox4x32 ctr, uint32_t k0, uint32_t k1, Philox4x32 want) {
    Philox4x32 got = kernels::philox4x32_10(ctr, k0, k1);
    for (int i = 0; i < 4; ++i) CHECK(got.v[i] == want.v[i]);
  };
  check({{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}});
  check({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu,
        {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}});
  check({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u,
        {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}});
}

TEST_CASE("dropout: the same mask for any CPU thread count") {
  Tensor x = ones({300, 300}, DType::Float32);  // above the parallel threshold
  const int before = cpu_threads();
  set_cpu_threads(1);
  DropoutRng a{11, 3};
  std::vector<double> one = dropout(x, 0.25, true, a).to_vector();
  set_cpu_threads(2);
  DropoutRng b{11, 3};
  std::vector<double> two = dropout(x, 0.25, true, b).to_vector();
  set_cpu_threads(before);
  CHECK(one == two);
}

TEST_CASE("gather, scatter, scatter_add, index_select by hand") {
  Tensor x = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  check_close(gather(x, 1, from_vector_i64({2, 0, 1, 1}, {2, 2})), {3, 1, 5, 5});
  check_close(gather(x, 0, from_vector_i64({1, 0, 1}, {1, 3})), {4, 2, 6});
  Tensor base = zeros({2, 3}, DType::Float64), src = from_vector({7, 8, 9, 10}, {2, 2});
  check_close(scatter(base, 1, from_vector_i64({2, 0, 1, 2}, {2, 2}), src), {8, 0, 7, 0, 9, 10});
  check_close(scatter_add(base, 1, from_vector_i64({1, 1, 0, 2}, {2, 2}), src), {0, 15, 0, 9, 0, 10});
  check_close(index_select(x, 0, from_vector_i64({1, 1, 0}, {3})), {4, 5, 6, 4, 5, 6, 1, 2, 3});
  check_close(index_select(x, 1, from_vector_i64({2, 0}, {2})), {3, 1, 6, 4});
}

TEST_CASE("where and masked_fill broadcast the mask") {
  Tensor c = from_vector({1, 0, 1}, {3}, DType::UInt8);
  Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3}), b = from_vector({-1}, {1});
  check_close(where(c, a, b), {1, -1, 3, 4, -1, 6});
  Tensor m = from_vector({0, 1}, {2, 1}, DType::UInt8);
  check_close(masked_fill(a, m, 9), {1, 2, 3, 9, 9, 9});
}

TEST_CASE("index errors name the op, the index and the dim size") {
  Tensor x = zeros({2, 3}, DType::Float64);
  CHECK_THROWS_WITH_AS(gather(x, 1, from_vector_i64({3, 0}, {2, 1})),
                       doctest::Contains("gather: index 3 out of range for dim 1 of size 3"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(gather(x, 1, from_vector_i64({-1}, {1, 1})), doctest::Contains("index -1 out of range"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(index_select(x, 0, from_vector_i64({0, 2}, {2})),
                       doctest::Contains("index_select: index 2 out of range for dim 0 of size 2"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(scatter(x, 0, from_vector_i64({5}, {1, 1}), ones({1, 1}, DType::Float64)),
                       doctest::Contains("scatter: index 5 out of range for dim 0 of size 2"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(scatter(x, 1, from_vector_i64({1, 1}, {1, 2}), ones({1, 2}, DType::Float64)),
                       doctest::Contains("scatter: index 1 repeats"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(embedding(zeros({4, 2}, DType::Float64), from_vector_i64({1, 4}, {2})),
                       doctest::Contains("embedding: index 4 out of range for dim 0 of size 4"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 3}, DType::Float64), from_vector_i64({0, 3}, {2})),
                       doctest::Contains("cross_entropy: target 3 at row 1 out of range for 3 classes"),
                       std::invalid_argument);
}

TEST_CASE("wrong shapes throw naming the op and the shapes") {
  Tensor x = zeros({2, 3}, DType::Float64);
  CHECK_THROWS_WITH_AS(gather(x, 1, from_vector_i64({0, 0}, {2})),
                       doctest::Contains("gather: index of shape [2] must have as many dims as x of shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(gather(x, 1, zeros({3, 1}, DType::Int64)),
                       doctest::Contains("gather: index of shape [3, 1] is larger than x of shape [2, 3] at dim 0"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(scatter_add(x, 1, zeros({2, 2}, DType::Int64), zeros({2, 1}, DType::Float64)),
                       doctest::Contains("larger than src of shape [2, 1]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(where(zeros({4}, DType::UInt8), x, x), doctest::Contains("where: shapes [4] and [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(masked_fill(zeros({3}, DType::Float64), zeros({2, 3}, DType::UInt8), 0),
                       doctest::Contains("masked_fill: mask of shape [2, 3] does not broadcast to x of shape [3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cross_entropy(x, zeros({3}, DType::Int64)),
                       doctest::Contains("cross_entropy: target of shape [3] does not match logits of shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 3, 4}, DType::Float64), zeros({2}, DType::Int64)),
                       doctest::Contains("cross_entropy: logits must have 2 dims, got shape [2, 3, 4]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(layer_norm(x, zeros({2}, DType::Float64), Tensor()),
                       doctest::Contains("layer_norm: weight must have shape [3] for input of shape [2, 3], got [2]"),
                       std::invalid_argument);
  Tensor rm = zeros({3}, DType::Float64), rv = ones({3}, DType::Float64);
  CHECK_THROWS_WITH_AS(batch_norm(x, Tensor(), zeros({2, 3}, DType::Float64), rm, rv, true),
                       doctest::Contains("batch_norm: bias must have shape [3] for input of shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(batch_norm(zeros({1, 3}, DType::Float64), Tensor(), Tensor(), rm, rv, true),
                       doctest::Contains("batch_norm: training needs more than one value per channel"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false),
                       doctest::Contains("batch_norm: eval mode needs running_mean"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(embedding(zeros({4}, DType::Float64), zeros({2}, DType::Int64)),
                       doctest::Contains("embedding: weight must have 2 dims, got shape [4]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(softmax(x, 2), doctest::Contains("softmax: dimension 2 out of range"), std::invalid_argument);
}

TEST_CASE("wrong dtypes throw naming the op and the argument") {
  Tensor x = zeros({2, 3}, DType::Float64);
  CHECK_THROWS_WITH_AS(gather(x, 0, zeros({1, 3}, DType::Float64)),
                       doctest::Contains("gather: index must be int64, got float64 of shape [1, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(gather(zeros({2, 3}, DType::Int64), 0, zeros({1, 3}, DType::Int64)),
                       doctest::Contains("gather: x must be float32 or float64, got int64 of shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(where(x, x, x), doctest::Contains("where: cond must be uint8, got float64"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(where(zeros({3}, DType::UInt8), x, zeros({3}, DType::Float32)),
                       doctest::Contains("where: dtype mismatch"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(masked_fill(x, zeros({3}, DType::Int64), 0),
                       doctest::Contains("masked_fill: mask must be uint8"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cross_entropy(x, zeros({2}, DType::Float64)),
                       doctest::Contains("cross_entropy: target must be int64"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(embedding(x, zeros({2}, DType::UInt8)), doctest::Contains("embedding: index must be int64"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(layer_norm(x, zeros({3}, DType::Float32), Tensor()),
                       doctest::Contains("layer_norm: dtype mismatch, float64 [2, 3] vs float32 [3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(softmax(zeros({3}, DType::Int64), 0), doctest::Contains("softmax: x must be float32 or float64"),
                       std::invalid_argument);
}

TEST_CASE("dropout rejects p outside [0, 1)") {
  DropoutRng g;
  Tensor x = ones({2, 2}, DType::Float64);
  CHECK_THROWS_WITH_AS(dropout(x, 1.0, true, g), doctest::Contains("dropout: p must be in [0, 1), got 1"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(dropout(x, -0.1, false, g), doctest::Contains("dropout: p must be in [0, 1), got -0.1"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(dropout(x, std::nan(""), true, g), doctest::Contains("(input of shape [2, 2])"),
                       std::invalid_argument);
}
