// tests/test_sampling.cpp: sample_next_token: greedy argmax, top-k = 1 is
// greedy, seeded draws reproduce, tokens outside the top k never appear, and
// draw frequencies follow softmax(logits / T) within sampling error.
#include "nn/sampling.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

using namespace seqboat;
using nn::sample_next_token;

namespace {

// softmax(logits / T) restricted to the k largest logits (k = 0: all).
std::vector<double> expected_probs(const std::vector<double>& logits, double T, size_t k) {
  std::vector<double> sorted = logits;
  std::sort(sorted.rbegin(), sorted.rend());
  const double cut = k > 0 && k < logits.size() ? sorted[k - 1] : -INFINITY;
  std::vector<double> p;
  double z = 0;
  for (double l : logits) z += l >= cut ? std::exp((l - sorted[0]) / T) : 0;
  for (double l : logits) p.push_back(l >= cut ? std::exp((l - sorted[0]) / T) / z : 0);
  return p;
}

// Draw frequencies over n draws match p within 5 standard errors.
void check_frequencies(const std::vector<double>& logits, double T, int64_t k, int n) {
  Generator gen(123);
  std::vector<int> count(logits.size());
  for (int i = 0; i < n; ++i) ++count[sample_next_token(logits, T, k, gen)];
  const std::vector<double> p = expected_probs(logits, T, static_cast<size_t>(k));
  for (size_t v = 0; v < logits.size(); ++v) {
    CAPTURE(v);
    const double f = static_cast<double>(count[v]) / n;
    if (p[v] == 0) CHECK(count[v] == 0);
    else CHECK(std::abs(f - p[v]) <= 5 * std::sqrt(p[v] * (1 - p[v]) / n));
  }
}

}  // namespace

TEST_CASE("temperature 0 is greedy: the first maximum, without a draw") {
  Generator gen(7);
  const auto state = gen.state();
  CHECK(sample_next_token({0.1, 2.5, -1.0, 2.4}, 0, 0, gen) == 1);
  CHECK(sample_next_token({3.0, 1.0, 3.0}, 0, 2, gen) == 0);  // tie: first wins
  CHECK(sample_next_token({-5.0}, 0, 0, gen) == 0);
  CHECK(gen.state() == state);
}

TEST_CASE("top_k = 1 equals greedy") {
  Generator logit_gen(1);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<double> logits(256);
    for (double& l : logits) l = logit_gen.next_normal() * 3;
    Generator gen(trial);
    for (double T : {0.1, 0.8, 5.0})
      CHECK(sample_next_token(logits, T, 1, gen) == sample_next_token(logits, 0, 0, gen));
  }
}

TEST_CASE("a fixed seed reproduces the draws") {
  const std::vector<double> logits = {0.3, 1.2, -0.7, 0.9, 0.0, 2.0};
  Generator a(42), b(42), c(43);
  std::vector<int64_t> da, db, dc;
  for (int i = 0; i < 200; ++i) {
    da.push_back(sample_next_token(logits, 0.9, 4, a));
    db.push_back(sample_next_token(logits, 0.9, 4, b));
    dc.push_back(sample_next_token(logits, 0.9, 4, c));
  }
  CHECK(da == db);
  CHECK(da != dc);
}

TEST_CASE("tokens outside the top k are never drawn") {
  const std::vector<double> logits = {0.5, 3.0, -2.0, 2.9, 1.0, 2.8, 0.0, -1.0};  // top 3: ids 1, 3, 5
  Generator gen(9);
  for (int i = 0; i < 5000; ++i) {
    const int64_t t = sample_next_token(logits, 4.0, 3, gen);  // hot: the others would show up often
    CHECK((t == 1 || t == 3 || t == 5));
  }
}

TEST_CASE("draws follow softmax(logits / T) within sampling error") {
  const std::vector<double> logits = {1.0, 2.0, 0.5, -1.0, 3.0, 0.0};
  check_frequencies(logits, 0.7, 0, 20000);
  check_frequencies(logits, 1.0, 0, 20000);
  check_frequencies(logits, 2.5, 3, 20000);                   // renormalised over the top 3
  check_frequencies({1000.0, 1001.0, 999.0}, 1.0, 0, 20000);  // large logits: no overflow
}

TEST_CASE("bad arguments throw std::invalid_argument") {
  Generator gen(0);
  CHECK_THROWS_AS(sample_next_token({}, 1.0, 0, gen), std::invalid_argument);
  CHECK_THROWS_AS(sample_next_token({1.0}, -0.5, 0, gen), std::invalid_argument);
  CHECK_THROWS_AS(sample_next_token({1.0}, NAN, 0, gen), std::invalid_argument);
  CHECK_THROWS_AS(sample_next_token({1.0}, 1.0, -1, gen), std::invalid_argument);
}
