// tests/test_decoding.cpp: incremental decoding (nn/decoding.h) gives the
// full forward's logits at every position (float64, 1e-10) over language
// models with mixed routing, windows from 1 to longer than the sequence,
// simple and rotary bias, softmax and relu2, layernorm and batchnorm (eval),
// pre- and post-norm, truncated EMA kernels and several layers; prefill of k
// tokens then steps equals stepping from token 0; batches whose rows are not
// fully active equal the per-row decoders; the state does not grow; the
// CUDA kernels (their host build) decode as the CPU backend does.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>

#include "autograd/autograd.h"
#include "cuda_on_host.h"
#include "nn/decoding.h"
#include "ops/reduce.h"
#include "ops/ema_scan.h"
#include "ops/position.h"
#include "ops/ssm.h"
#include "tensor/random.h"

using namespace seqboat;

namespace {

struct LmCase {
  int64_t window;
  nn::RelPosType bias;
  AttnActivation activation;
  nn::NormType norm;
  bool prenorm;
  int64_t truncation;  // 0 = none
  int64_t layers;
};

std::string describe(const LmCase& c) {
  return fmt::format("window {} {} {} {} {} truncation {} layers {}", c.window,
                     c.bias == nn::RelPosType::Simple ? "simple" : "rotary",
                     c.activation == AttnActivation::Softmax ? "softmax" : "relu2",
                     c.norm == nn::NormType::LayerNorm ? "layernorm" : "batchnorm", c.prenorm ? "prenorm" : "postnorm",
                     c.truncation, c.layers);
}

// A float64 LM whose attention matters (gamma, beta of order 1) and whose
// batchnorm statistics are not the identity.
std::shared_ptr<nn::SeqBoatLM> make_lm(const LmCase& c, uint64_t seed) {
  nn::ModelConfig m;
  m.vocab_size = 11;
  m.d_model = 8;
  m.n_layers = c.layers;
  m.d_qk = 4;
  m.d_ema = 3;
  m.mem_size = c.window;
  m.prenorm = c.prenorm;
  m.norm_type = c.norm;
  m.rel_pos_bias = c.bias;
  m.attention_activation = c.activation;
  m.max_positions = 6;  // sequences run past it: the bias clamps
  if (c.truncation > 0) m.truncation = c.truncation;
  Generator gen(seed);
  auto lm = std::make_shared<nn::SeqBoatLM>(m, DType::Float64, gen);
  for (auto& layer : lm->seq_layers) {
    layer->gamma = rand_normal({2, m.d_qk}, 0, 1, DType::Float64, &gen).requires_grad_(true);
    layer->beta = rand_normal({2, m.d_qk}, 0, 0.5, DType::Float64, &gen).requires_grad_(true);
    if (layer->norm->bn) {
      layer->norm->bn->running_mean = rand_normal({m.d_model}, 0, 0.3, DType::Float64, &gen);
      layer->norm->bn->running_var = rand_uniform({m.d_model}, 0.5, 2.0, DType::Float64, &gen);
    }
  }
  lm->eval();
  return lm;
}

std::vector<int64_t> random_tokens(int64_t n, uint64_t seed) {
  Generator g(seed);
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (auto& v : t) v = static_cast<int64_t>(g.next_below(11));
  return t;
}

// The full forward's logits (L, V) of one sequence.
Tensor full_logits(nn::SeqBoatLM& lm, const std::vector<int64_t>& tokens) {
  NoGradGuard no_grad;
  DropoutRng none;
  const int64_t L = static_cast<int64_t>(tokens.size());
  Tensor logits = lm.forward(from_vector_i64(tokens, {1, L}), none);
  return logits.reshape({L, logits.size(-1)});
}

// max |a - b| / max(1, max |b|)
double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0, s = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, std::fabs(a[i] - b[i]));
    s = std::max(s, std::fabs(b[i]));
  }
  return d / s;
}

// Logits of positions 0..L-1 from a prefill of `k` tokens (none: k = 0), then steps.
std::vector<std::vector<double>> decoded(nn::SeqBoatLM& lm, const std::vector<int64_t>& tokens, int64_t k) {
  nn::LMDecoder dec(lm);
  std::vector<std::vector<double>> rows;
  if (k > 0) {  // k == 0: every token is a step
    Tensor pre = dec.prefill(std::vector<int64_t>(tokens.begin(), tokens.begin() + k));
    for (int64_t i = 0; i < k; ++i) rows.push_back(pre.narrow(0, i, 1).to_vector());
  }
  for (size_t i = static_cast<size_t>(k); i < tokens.size(); ++i) rows.push_back(dec.step(tokens[i]).to_vector());
  return rows;
}

// The share of active tokens of every layer in the full forward.
std::vector<double> densities(nn::SeqBoatLM& lm) {
  std::vector<double> out;
  for (auto& l : lm.seq_layers) out.push_back(mean(l->last_route.active.to(DType::Float64)).item());
  return out;
}

}  // namespace

TEST_CASE("decoding: prefill + steps give the full forward's logits at every position (float64, 1e-10)") {
  const int64_t L = 23;
  std::vector<LmCase> cases;
  for (int64_t window : {int64_t{1}, int64_t{3}, int64_t{40}})
    for (auto bias : {nn::RelPosType::Simple, nn::RelPosType::Rotary})
      for (auto act : {AttnActivation::Softmax, AttnActivation::Relu2})
        cases.push_back({window, bias, act, nn::NormType::LayerNorm, true, 0, 2});
  cases.push_back({3, nn::RelPosType::Simple, AttnActivation::Softmax, nn::NormType::BatchNorm, true, 0, 2});
  cases.push_back({3, nn::RelPosType::Rotary, AttnActivation::Relu2, nn::NormType::BatchNorm, false, 0, 2});
  cases.push_back({2, nn::RelPosType::Simple, AttnActivation::Softmax, nn::NormType::LayerNorm, false, 0, 3});
  cases.push_back({2, nn::RelPosType::Simple, AttnActivation::Softmax, nn::NormType::LayerNorm, true, 5, 2});
  cases.push_back({4, nn::RelPosType::Rotary, AttnActivation::Softmax, nn::NormType::LayerNorm, true, 1, 1});
  int mixed = 0;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const LmCase& c = cases[ci];
    CAPTURE(describe(c));
    auto lm = make_lm(c, 100 + ci);
    const std::vector<int64_t> tokens = random_tokens(L, 7 + ci);
    const std::vector<double> full = full_logits(*lm, tokens).to_vector();
    for (double d : densities(*lm)) mixed += d > 0.1 && d < 0.9;
    const int64_t V = lm->cfg.vocab_size;
    for (int64_t k : {int64_t{0}, int64_t{9}}) {
      CAPTURE(k);
      const auto rows = decoded(*lm, tokens, k);
      double worst = 0;
      for (int64_t t = 0; t < L; ++t)
        worst = std::max(
            worst, relative_error(rows[t], std::vector<double>(full.begin() + t * V, full.begin() + (t + 1) * V)));
      CHECK(worst < 1e-10);
    }
  }
  CHECK(mixed >= static_cast<int>(cases.size()));  // most layers route a mix of tokens
}

TEST_CASE("decoding: a prefill of k tokens then steps equals stepping from token 0") {
  const LmCase c{3, nn::RelPosType::Simple, AttnActivation::Softmax, nn::NormType::LayerNorm, true, 4, 2};
  auto lm = make_lm(c, 5);
  const std::vector<int64_t> tokens = random_tokens(30, 3);
  const auto stepped = decoded(*lm, tokens, 0);
  for (int64_t k : {int64_t{1}, int64_t{5}, int64_t{12}, int64_t{30}}) {
    CAPTURE(k);
    const auto prefilled = decoded(*lm, tokens, k);
    for (size_t t = 0; t < tokens.size(); ++t) CHECK(relative_error(prefilled[t], stepped[t]) < 1e-12);
  }
}

TEST_CASE("decoding: a batch whose rows are not fully active equals the per-row decoders") {
  const LmCase c{2, nn::RelPosType::Rotary, AttnActivation::Softmax, nn::NormType::LayerNorm, true, 0, 2};
  auto lm = make_lm(c, 9);
  const int64_t B = 3, L = 17;
  std::vector<int64_t> all;
  std::vector<std::vector<int64_t>> rows;
  for (int64_t b = 0; b < B; ++b) {
    rows.push_back(random_tokens(L, 40 + b));
    all.insert(all.end(), rows.back().begin(), rows.back().end());
  }
  NoGradGuard no_grad;
  DropoutRng none;
  Tensor batch = lm->forward(from_vector_i64(all, {B, L}), none);  // (B, L, V)
  for (auto& l : lm->seq_layers) {
    const std::vector<double> active = l->last_route.active.to_vector();
    for (int64_t b = 0; b < B; ++b) {  // the precondition: no row fully active
      double on = 0;
      for (int64_t t = 0; t < L; ++t) on += active[b * L + t];
      REQUIRE(on < L);
    }
  }
  const int64_t V = lm->cfg.vocab_size;
  const std::vector<double> bv = batch.to_vector();
  for (int64_t b = 0; b < B; ++b) {
    const auto dec = decoded(*lm, rows[b], 4);
    for (int64_t t = 0; t < L; ++t) {
      const auto from = bv.begin() + (b * L + t) * V;
      CHECK(relative_error(dec[t], std::vector<double>(from, from + V)) < 1e-10);
    }
  }
}

TEST_CASE("decoding: the state does not grow with the length generated") {
  const LmCase c{3, nn::RelPosType::Simple, AttnActivation::Softmax, nn::NormType::LayerNorm, true, 6, 2};
  auto lm = make_lm(c, 2);
  nn::LMDecoder dec(*lm);
  dec.prefill({1, 2, 3});
  const int64_t bytes = dec.state_bytes();
  for (int64_t i = 0; i < 200; ++i) dec.step(i % 11);
  CHECK(dec.position() == 203);
  CHECK(dec.state_bytes() == bytes);
  CHECK_THROWS_WITH_AS(dec.step(11), doctest::Contains("token 11 is outside the vocabulary [0, 11)"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(dec.prefill({}), doctest::Contains("at least one token"), std::invalid_argument);
}

TEST_CASE("decoding: the CUDA kernels' host build decodes as the CPU backend does") {
  for (const LmCase& c :
       {LmCase{3, nn::RelPosType::Rotary, AttnActivation::Softmax, nn::NormType::LayerNorm, true, 5, 2},
        LmCase{2, nn::RelPosType::Simple, AttnActivation::Relu2, nn::NormType::BatchNorm, false, 0, 2}}) {
    CAPTURE(describe(c));
    auto lm = make_lm(c, 21);
    const std::vector<int64_t> tokens = random_tokens(19, 8);
    const auto cpu = decoded(*lm, tokens, 6);
    std::vector<std::vector<double>> on_cuda;
    {
      testing::CudaKernelsOnHost cuda;
      on_cuda = decoded(*lm, tokens, 6);
    }
    for (size_t t = 0; t < tokens.size(); ++t) CHECK(relative_error(on_cuda[t], cpu[t]) < 1e-10);
  }
}

TEST_CASE("decoding: the EMA decoding ops refuse to run where a gradient is expected") {
  const LmCase c{3, nn::RelPosType::Simple, AttnActivation::Softmax, nn::NormType::LayerNorm, true, 0, 1};
  auto lm = make_lm(c, 4);
  const nn::MultiHeadEMA& ema = *lm->seq_layers[0]->ssm;  // parameters that require grad
  Tensor x = rand_normal({1, 5, 8}, 0, 1, DType::Float64, nullptr);
  CHECK_THROWS_WITH_AS(ema_state(x, ema.delta, ema.alpha, ema.beta, ema.gamma, Tensor()),
                       doctest::Contains("ema_state: an inference op (no gradient)"), std::invalid_argument);
  NoGradGuard no_grad;
  Tensor h = ema_state(x, ema.delta, ema.alpha, ema.beta, ema.gamma, Tensor());
  CHECK(h.shape() == Shape{1, 8, 3});  // (B, D, N), d_ema = 3
}
