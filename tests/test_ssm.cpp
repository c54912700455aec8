// tests/test_ssm.cpp: the SSM ops beyond gradcheck: Direct and FFT agree on
// long sequences (forward and backward), ema_kernel + ssm_conv equals the EMA
// linear recurrence, rotary and the relative bias match their definitions, and
// bad arguments throw messages that name the op and the shapes.
#include <doctest/doctest.h>

#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>

#include "ops/ema_scan.h"
#include "ops/position.h"
#include "ops/ssm.h"
#include "tensor/random.h"

namespace seqboat {

namespace {

Tensor normal(const Shape& s, Generator& g, DType dt = DType::Float64) { return rand_normal(s, 0.0, 1.0, dt, &g); }

// max |a - b| / max |b|
double relative_difference(const Tensor& a, const Tensor& b) {
  std::vector<double> va = a.to_vector(), vb = b.to_vector();
  REQUIRE(va.size() == vb.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    diff = std::max(diff, std::abs(va[i] - vb[i]));
    scale = std::max(scale, std::abs(vb[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

// (B, L) mask with a padded tail of `tail` positions in row 0 and row B-1 fully padded.
Tensor tail_padding(int64_t B, int64_t L, int64_t tail) {
  Tensor m = zeros({B, L}, DType::UInt8);
  for (int64_t t = L - tail; t < L; ++t) m.set({0, t}, 1);
  for (int64_t t = 0; t < L; ++t) m.set({B - 1, t}, 1);
  return m;
}

struct ConvResult {
  Tensor y, dx, dk;
};

ConvResult run_conv(const Tensor& x, const Tensor& k, const Tensor& pad, const Tensor& cotangent, bool bidirectional,
                    ConvAlgo algo) {
  Tensor xl = x.detach().requires_grad_(true), kl = k.detach().requires_grad_(true);
  Tensor y = ssm_conv(xl, kl, pad, bidirectional, algo);
  y.backward(cotangent);
  return {y.detach(), xl.grad(), kl.grad()};
}

using seqboat::testing::check_throws_mentioning;

double sigmoid_ref(double v) { return 1.0 / (1.0 + std::exp(-v)); }

}  // namespace

TEST_CASE("ssm_conv: Direct, Toeplitz and FFT agree in float64 on long sequences, forward and backward") {
  const int64_t B = 2, L = 300, D = 5;
  for (bool bidirectional : {false, true})
    for (int64_t Lk : {L, int64_t{50}, int64_t{1}})
      for (bool padded : {false, true}) {
        CAPTURE(bidirectional);
        CAPTURE(Lk);
        CAPTURE(padded);
        Generator g(100 + Lk);
        Tensor x = normal({B, L, D}, g), k = normal({bidirectional ? 2 * D : D, Lk}, g), c = normal({B, L, D}, g);
        Tensor pad = padded ? tail_padding(B, L, 37) : Tensor();
        ConvResult direct = run_conv(x, k, pad, c, bidirectional, ConvAlgo::Direct);
        ConvResult fft = run_conv(x, k, pad, c, bidirectional, ConvAlgo::FFT);
        CHECK(relative_difference(fft.y, direct.y) < 1e-12);
        CHECK(relative_difference(fft.dx, direct.dx) < 1e-12);
        CHECK(relative_difference(fft.dk, direct.dk) < 1e-12);
        ConvResult toeplitz = run_conv(x, k, pad, c, bidirectional, ConvAlgo::Toeplitz);
        CHECK(relative_difference(toeplitz.y, direct.y) < 1e-12);
        CHECK(relative_difference(toeplitz.dx, direct.dx) < 1e-12);
        CHECK(relative_difference(toeplitz.dk, direct.dk) < 1e-12);
        ConvResult automatic = run_conv(x, k, pad, c, bidirectional, ConvAlgo::Auto);
        CHECK(relative_difference(automatic.y, direct.y) < 1e-12);
        if (padded) {  // padding positions get no gradient
          CHECK(direct.dx.at({0, L - 1, 2}) == 0.0);
          CHECK(fft.dx.at({B - 1, 0, 0}) == 0.0);
          CHECK(toeplitz.dx.at({B - 1, 0, 1}) == 0.0);
        }
      }
}

// ema_conv against the materialised kernel: y, dx and every parameter
// gradient, on long sequences where a recurrence accumulates rounding.
TEST_CASE("ema_conv equals ssm_conv(ema_kernel) on long sequences: forward, dx and the parameter gradients") {
  const int64_t B = 3, L = 400, D = 4, N = 5;
  for (DType dt : {DType::Float64, DType::Float32})
    for (bool bidirectional : {false, true})
      for (int64_t trunc : {int64_t{0}, int64_t{37}})
        for (bool padded : {false, true}) {
          CAPTURE(dtype_name(dt));
          CAPTURE(bidirectional);
          CAPTURE(trunc);
          CAPTURE(padded);
          const int64_t K = bidirectional ? 2 * D : D;
          Generator g(7 + trunc);
          auto param = [&](Shape s, double sd) { return rand_normal(s, 0.0, sd, dt, &g); };
          Tensor x = normal({B, L, D}, g, dt), c = normal({B, L, D}, g, dt);
          // delta, alpha ~ N(0, 0.5): decays q between about 0.5 and 0.95
          std::vector<Tensor> p{param({K, N, 1}, 0.5), param({K, N, 1}, 0.5), param({K, N, 1}, 1.0),
                                param({K, N}, 1.0)};
          Tensor pad = padded ? tail_padding(B, L, 41) : Tensor();
          auto leaves = [](const std::vector<Tensor>& ts) {
            std::vector<Tensor> out;
            for (const Tensor& t : ts) out.push_back(t.detach().requires_grad_(true));
            return out;
          };
          std::vector<Tensor> a = leaves({x, p[0], p[1], p[2], p[3]}), b = leaves({x, p[0], p[1], p[2], p[3]});
          Tensor ya = ema_conv(a[0], a[1], a[2], a[3], a[4], pad, bidirectional, trunc);
          const int64_t Lk = trunc ? std::min(trunc, L) : L;
          Tensor yb = ssm_conv(b[0], ema_kernel(b[1], b[2], b[3], b[4], Lk), pad, bidirectional, ConvAlgo::Direct);
          ya.backward(c);
          yb.backward(c);
          const double tol = dt == DType::Float64 ? 1e-12 : 2e-5;
          CHECK(relative_difference(ya, yb) < tol);
          for (size_t i = 0; i < a.size(); ++i) {
            CAPTURE(i);
            CHECK(relative_difference(a[i].grad(), b[i].grad()) < tol);
          }
        }
}

TEST_CASE("ssm_conv: Auto takes Toeplitz for short sequences, Direct for short kernels, FFT for long ones") {
  CHECK(ssm_conv_auto_algo(32, 128, 128, 128, true) == ConvAlgo::Toeplitz);
  CHECK(ssm_conv_auto_algo(32, 128, 128, 32, true) == ConvAlgo::Direct);
  CHECK(ssm_conv_auto_algo(32, 2048, 128, 256, false) == ConvAlgo::Direct);
  CHECK(ssm_conv_auto_algo(32, 1024, 128, 1024, false) == ConvAlgo::FFT);
  Generator g(9);
  auto same = [](const Tensor& a, const Tensor& b) { return a.to_vector() == b.to_vector(); };
  Tensor x = normal({1, 2048, 1}, g), long_k = normal({1, 2048}, g), short_k = normal({1, 16}, g);
  CHECK(same(ssm_conv(x, long_k, Tensor(), false), ssm_conv(x, long_k, Tensor(), false, ConvAlgo::FFT)));
  CHECK(same(ssm_conv(x, short_k, Tensor(), false), ssm_conv(x, short_k, Tensor(), false, ConvAlgo::Direct)));
}

TEST_CASE("ssm_conv: float32 Direct, Toeplitz and FFT agree to float32 precision") {
  const int64_t B = 2, L = 200, D = 3;
  Generator g(5);
  Tensor x = normal({B, L, D}, g, DType::Float32), k = normal({2 * D, L}, g, DType::Float32);
  Tensor c = normal({B, L, D}, g, DType::Float32);
  ConvResult direct = run_conv(x, k, Tensor(), c, true, ConvAlgo::Direct);
  ConvResult fft = run_conv(x, k, Tensor(), c, true, ConvAlgo::FFT);
  CHECK(fft.y.dtype() == DType::Float32);
  CHECK(relative_difference(fft.y, direct.y) < 1e-5);
  CHECK(relative_difference(fft.dx, direct.dx) < 1e-5);
  CHECK(relative_difference(fft.dk, direct.dk) < 1e-5);
  ConvResult toeplitz = run_conv(x, k, Tensor(), c, true, ConvAlgo::Toeplitz);
  CHECK(relative_difference(toeplitz.y, direct.y) < 1e-5);
  CHECK(relative_difference(toeplitz.dx, direct.dx) < 1e-5);
  CHECK(relative_difference(toeplitz.dk, direct.dk) < 1e-5);
}

TEST_CASE("ema_kernel + ssm_conv equals the EMA linear recurrence h_t = q h_{t-1} + p beta x_t") {
  const int64_t B = 2, L = 40, D = 3, N = 2;
  for (bool bidirectional : {false, true}) {
    CAPTURE(bidirectional);
    const int64_t K = bidirectional ? 2 * D : D;
    Generator g(11);
    Tensor delta = normal({K, N, 1}, g), alpha = normal({K, N, 1}, g), beta = normal({K, N, 1}, g);
    Tensor gamma = normal({K, N}, g), x = normal({B, L, D}, g);
    Tensor pad = tail_padding(B, L, 5);
    Tensor y = ssm_conv(x, ema_kernel(delta, alpha, beta, gamma, L), pad, bidirectional);

    // Independent recurrence, plain doubles: the forward kernel row c = d runs
    // t = 0..L-1; the backward row c = D + d runs t = L-1..0 (both include x_t).
    Tensor expected = zeros({B, L, D}, DType::Float64);
    const double scale = std::sqrt(1.0 / N);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < K; ++c) {
        const int64_t d = c % D;
        const bool backward_row = c >= D;
        for (int64_t n = 0; n < N; ++n) {
          const double p = sigmoid_ref(delta.at({c, n, 0})), q = 1.0 - p * sigmoid_ref(alpha.at({c, n, 0}));
          double h = 0;
          for (int64_t step = 0; step < L; ++step) {
            const int64_t t = backward_row ? L - 1 - step : step;
            const double x0 = pad.at({b, t}) != 0 ? 0.0 : x.at({b, t, d});
            h = q * h + p * beta.at({c, n, 0}) * x0;
            expected.set({b, t, d}, expected.at({b, t, d}) + gamma.at({c, n}) * scale * h);
          }
        }
      }
    CHECK(relative_difference(y, expected) < 1e-12);
  }
}

TEST_CASE("ema_kernel: values at l = 0 and l = 3 follow the formula") {
  Tensor delta = from_vector({0.3, -0.7}, {1, 2, 1}), alpha = from_vector({-0.2, 1.1}, {1, 2, 1});
  Tensor beta = from_vector({1.0, -1.0}, {1, 2, 1}), gamma = from_vector({0.5, 2.0}, {1, 2});
  Tensor k = ema_kernel(delta, alpha, beta, gamma, 4);
  REQUIRE(k.shape() == Shape{1, 4});
  for (int64_t l : {0, 3}) {
    double expected = 0;
    for (int64_t n = 0; n < 2; ++n) {
      const double p = sigmoid_ref(delta.at({0, n, 0})), q = 1 - p * sigmoid_ref(alpha.at({0, n, 0}));
      expected += p * beta.at({0, n, 0}) * std::pow(q, l) * gamma.at({0, n}) * std::sqrt(0.5);
    }
    CHECK(k.at({0, l}) == doctest::Approx(expected).epsilon(1e-14));
  }
  CHECK(ema_kernel(delta, alpha, beta, gamma, 0).shape() == Shape{1, 0});
}

TEST_CASE("rotary: interleaved pairs rotated by pos * 10000^(-2m/Z); scores depend on j - i only") {
  Generator g(3);
  Tensor x = normal({1, 2, 4}, g);
  Tensor pos = from_vector_i64({7, 130}, {1, 2});
  Tensor y = rotary(x, pos);
  for (int64_t s = 0; s < 2; ++s)
    for (int64_t m = 0; m < 2; ++m) {
      const double theta = static_cast<double>(pos.at({0, s})) * std::pow(10000.0, -2.0 * m / 4);
      const double a = x.at({0, s, 2 * m}), b = x.at({0, s, 2 * m + 1});
      CHECK(y.at({0, s, 2 * m}) == doctest::Approx(a * std::cos(theta) - b * std::sin(theta)).epsilon(1e-14));
      CHECK(y.at({0, s, 2 * m + 1}) == doctest::Approx(a * std::sin(theta) + b * std::cos(theta)).epsilon(1e-14));
    }
  // <rot(q, i), rot(k, j)> is the same for (i, j) = (3, 10) and (103, 110).
  Tensor qk = normal({1, 2, 6}, g);
  auto score = [&](int64_t i, int64_t j) {
    Tensor r = rotary(qk, from_vector_i64({i, j}, {1, 2}));
    double s = 0;
    for (int64_t z = 0; z < 6; ++z) s += r.at({0, 0, z}) * r.at({0, 1, z});
    return s;
  };
  CHECK(score(3, 10) == doctest::Approx(score(103, 110)).epsilon(1e-10));
}

TEST_CASE("rel_pos_bias_gather matches the reference's banded matrix, ends reused beyond M") {
  // The reference builds, for L > M, b = [w0]*(L-M) ++ w ++ [w_end]*(L-M) and
  // bias[i][j] = b[j - i + L - 1] for sequential positions.
  const int64_t M = 3, L = 6;
  Tensor w = from_vector({0.1, 0.2, 0.3, 0.4, 0.5}, {2 * M - 1});
  std::vector<double> b(static_cast<size_t>(L - M), 0.1);
  for (int64_t r = 0; r < 2 * M - 1; ++r) b.push_back(w.at({r}));
  for (int64_t r = 0; r < L - M; ++r) b.push_back(0.5);
  std::vector<int64_t> seq(L);
  for (int64_t t = 0; t < L; ++t) seq[t] = t;
  Tensor pos = from_vector_i64(seq, {1, L});
  Tensor bias = rel_pos_bias_gather(w, pos, pos);
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) CHECK(bias.at({0, i, j}) == b[j - i + L - 1]);
  CHECK(rel_pos_index(M, 0, 0) == M - 1);
  CHECK(rel_pos_index(M, 0, 100) == 2 * M - 2);
  CHECK(rel_pos_index(M, 100, 0) == 0);
}

TEST_CASE("ssm ops: bad arguments throw, naming the op and the shapes") {
  Tensor x = zeros({2, 5, 3}, DType::Float64);
  Tensor k3 = zeros({3, 5}, DType::Float64), k6 = zeros({6, 5}, DType::Float64);
  check_throws_mentioning(
      [&] {
        ssm_conv(x, zeros({4, 5}, DType::Float64), Tensor(), false);
      },
      {"ssm_conv", "[4, 5]", "[2, 5, 3]"});
  check_throws_mentioning([&] { ssm_conv(x, k3, Tensor(), true); }, {"ssm_conv", "[3, 5]", "6 rows"});
  check_throws_mentioning([&] { ssm_conv(x, k6, Tensor(), false); }, {"ssm_conv", "[6, 5]", "3 rows"});
  check_throws_mentioning(
      [&] {
        ssm_conv(x, zeros({3, 6}, DType::Float64), Tensor(), false);
      },
      {"ssm_conv", "Lk = 6", "[2, 5, 3]"});
  check_throws_mentioning(
      [&] {
        ssm_conv(x, k3, zeros({2, 4}, DType::UInt8), false);
      },
      {"ssm_conv", "padding_mask", "[2, 4]", "[2, 5]"});
  check_throws_mentioning(
      [&] {
        ssm_conv(x, k3, zeros({2, 5}, DType::Float64), false);
      },
      {"ssm_conv", "padding_mask", "uint8"});
  check_throws_mentioning(
      [&] {
        ssm_conv(x, zeros({3, 5}, DType::Float32), Tensor(), false);
      },
      {"ssm_conv", "[2, 5, 3]", "[3, 5]"});
  Tensor xi = zeros({2, 5, 3}, DType::Int64), ki = zeros({3, 5}, DType::Int64);
  check_throws_mentioning([&] { ssm_conv(xi, ki, Tensor(), false); }, {"ssm_conv", "int64", "[2, 5, 3]"});
  check_throws_mentioning(
      [&] {
        ssm_conv(zeros({5, 3}, DType::Float64), k3, Tensor(), false);
      },
      {"ssm_conv", "[5, 3]"});

  Tensor d = zeros({3, 2, 1}, DType::Float64), gm = zeros({3, 2}, DType::Float64);
  check_throws_mentioning(
      [&] {
        ema_kernel(d, d, d, zeros({3, 3}, DType::Float64), 4);
      },
      {"ema_kernel", "gamma", "[3, 3]", "[3, 2]"});
  check_throws_mentioning(
      [&] {
        ema_kernel(d, d, zeros({3, 2, 1}, DType::Float32), gm, 4);
      },
      {"ema_kernel", "[3, 2, 1]"});
  check_throws_mentioning([&] { ema_kernel(zeros({3, 2}, DType::Float64), d, d, gm, 4); }, {"ema_kernel", "[3, 2]"});
  check_throws_mentioning([&] { ema_kernel(d, d, d, gm, -1); }, {"ema_kernel", "-1"});

  Tensor pos = zeros({2, 5}, DType::Int64);
  check_throws_mentioning([&] { rotary(x, pos); }, {"rotary", "[2, 5, 3]", "even"});
  check_throws_mentioning(
      [&] {
        rotary(zeros({2, 5, 4}, DType::Float64), zeros({2, 5}, DType::Float64));
      },
      {"rotary", "positions", "int64"});
  check_throws_mentioning(
      [&] {
        rotary(zeros({2, 5, 4}, DType::Float64), zeros({2, 4}, DType::Int64));
      },
      {"rotary", "[2, 4]", "[2, 5]"});
  check_throws_mentioning([&] { rotary(zeros({2, 5, 4}, DType::Int64), pos); }, {"rotary", "int64"});

  Tensor w = zeros({7}, DType::Float64);
  check_throws_mentioning([&] { rel_pos_bias_gather(zeros({6}, DType::Float64), pos, pos); },
                          {"rel_pos_bias_gather", "[6]"});
  check_throws_mentioning(
      [&] {
        rel_pos_bias_gather(w, pos, zeros({3, 5}, DType::Int64));
      },
      {"rel_pos_bias_gather", "pos_k", "[3, 5]"});
  check_throws_mentioning(
      [&] {
        rel_pos_bias_gather(w, zeros({2, 5}, DType::Float64), pos);
      },
      {"rel_pos_bias_gather", "pos_q", "int64"});
}

}  // namespace seqboat
