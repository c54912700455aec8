// tests/test_task_modules.cpp: the pieces the task presets add to the model,
// each proven by a float64 gradient check of the module (they are
// compositions of differentiable ops): scale norm, scaled sinusoidal
// positions, GELU, the pair features, a whole SeqBoatModel with continuous
// input, positions, the GELU classifier and the pair head; and RAdam against
// a plain scalar implementation of its published formula.
#include <doctest/doctest.h>

#include <cmath>

#include "nn/layers.h"
#include "nn/radam.h"
#include "nn/seqboat.h"
#include "nn/task_heads.h"
#include "ops/gradcheck.h"
#include "ops/reduce.h"

using namespace seqboat;

namespace {
void require_ok(const GradcheckResult& r) {
  INFO(r.message);
  CHECK(r.ok);
  CHECK(r.elements_checked > 0);
}
}  // namespace

TEST_CASE("scale norm: value and float64 gradient") {
  nn::ScaleNorm sn(true, DType::Float64);
  Tensor x = from_vector({3, 4, 0, 0.5, -1, 2}, {2, 3});
  Tensor y = sn.forward(x);
  CHECK(y.at({0, 0}) == doctest::Approx(3 / std::sqrt(25.0 / 3 + 1e-5)));
  sn.scalar = full({1}, 1.7, DType::Float64);
  Generator g(3);
  Tensor xr = rand_normal({2, 3, 5}, 0, 1, DType::Float64, &g).requires_grad_();
  sn.scalar.requires_grad_();
  require_ok(gradcheck([&](const std::vector<Tensor>& in) {
    nn::ScaleNorm m(true, DType::Float64);
    m.scalar = in[1];
    return m.forward(in[0]);
  }, {xr, sn.scalar}));
  nn::SequenceNorm seq(nn::NormType::ScaleNorm, 5, true, DType::Float64);
  CHECK(seq.named_parameters().front().first == "norm.scalar");
}

TEST_CASE("scaled sinusoidal positions, GELU and pair features: values and float64 gradients") {
  nn::ScaledSinusoidal pe(4, DType::Float64);
  Tensor zero = zeros({1, 3, 4}, DType::Float64);
  Tensor e = pe.forward(zero);
  const double s = 0.5;  // 1 / sqrt(4)
  CHECK(e.at({0, 0, 0}) == doctest::Approx(0));        // sin(0)
  CHECK(e.at({0, 0, 2}) == doctest::Approx(s));        // cos(0)
  CHECK(e.at({0, 2, 1}) == doctest::Approx(s * std::sin(2 * 0.01)));  // f_1 = 10000^(-2/4)
  CHECK(e.at({0, 1, 3}) == doctest::Approx(s * std::cos(0.01)));
  CHECK_THROWS_AS(nn::ScaledSinusoidal(5, DType::Float64), std::invalid_argument);
  Generator g(5);
  Tensor x = rand_normal({2, 3, 4}, 0, 1, DType::Float64, &g).requires_grad_();
  Tensor scale = full({1}, 0.3, DType::Float64).requires_grad_();
  require_ok(gradcheck([&](const std::vector<Tensor>& in) {
    nn::ScaledSinusoidal m(4, DType::Float64);
    m.scale = in[1];
    return m.forward(in[0]);
  }, {x, scale}));
  CHECK(nn::gelu_tanh(from_vector({1.0}, {1})).item() == doctest::Approx(0.841192).epsilon(1e-5));
  require_ok(gradcheck([](const std::vector<Tensor>& in) { return nn::gelu_tanh(in[0]); }, {x}));
  Tensor u = rand_normal({2, 3}, 0, 1, DType::Float64, &g).requires_grad_();
  Tensor v = rand_normal({2, 3}, 0, 1, DType::Float64, &g).requires_grad_();
  Tensor f = nn::pair_features(u, v);
  CHECK(f.size(1) == 12);
  CHECK(f.at({1, 8}) == doctest::Approx(u.at({1, 2}) * v.at({1, 2})));
  CHECK(f.at({0, 10}) == doctest::Approx(u.at({0, 1}) - v.at({0, 1})));
  require_ok(gradcheck([](const std::vector<Tensor>& in) { return nn::pair_features(in[0], in[1]); }, {u, v}));
}

TEST_CASE("SeqBoatModel with continuous input, positions, GELU classifier and the pair head: float64 gradients") {
  nn::ModelConfig c;
  c.d_input = 1;
  c.d_model = 4;
  c.d_output = 3;
  c.n_layers = 1;
  c.d_qk = 2;
  c.d_ema = 2;
  c.mem_size = 2;
  c.bidirectional = true;
  c.norm_type = nn::NormType::ScaleNorm;
  c.real_input_init = true;
  c.positions = true;
  c.classifier_hidden = 5;
  Generator g(11);
  nn::SeqBoatModel model(c, DType::Float64, g);
  CHECK(model.classifier);
  CHECK_FALSE(model.decoder);
  Tensor x = rand_normal({2, 5, 1}, 0, 1, DType::Float64, &g).requires_grad_();
  Tensor pad = from_vector_u8({0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, {2, 5});
  DropoutRng rng;
  GradcheckOptions opt;
  opt.check_repeat = false;
  require_ok(gradcheck([&](const std::vector<Tensor>& in) { return model.forward(in[0], pad, rng); }, {x}, opt));
  // Every parameter's gradient, through the whole model (positions' scale, the norm's scalar, the head).
  for (auto& [name, p] : model.named_parameters()) {
    if (name.find("rel_pos") != std::string::npos) continue;
    INFO(name);
    Tensor saved = *p;
    p->requires_grad_();
    require_ok(gradcheck([&](const std::vector<Tensor>& in) {
      *p = in[0];
      return model.forward(x.detach(), pad, rng);
    }, {saved}, opt));
    *p = saved;
  }
  nn::ModelConfig pc = c;
  pc.vocab_size = 7;
  pc.d_input = 0;
  pc.pair = true;
  pc.positions = false;
  pc.norm_type = nn::NormType::LayerNorm;
  nn::SeqBoatModel pair(pc, DType::Float64, g);
  Tensor tokens = from_vector_i64({1, 2, 3, 4, 5, 6, 1, 1}, {4, 2});
  Tensor out = pair.forward_pair(tokens, Tensor(), rng);
  CHECK(out.shape() == Shape{2, 3});
  CHECK(pair.classifier->weight.size(1) == 16);  // 4 D pair features
  CHECK_THROWS_AS(pair.forward(tokens, Tensor(), rng), std::invalid_argument);
  Tensor w = pair.classifier->weight;
  require_ok(gradcheck([&](const std::vector<Tensor>& in) {
    pair.classifier->weight = in[0];
    return pair.forward_pair(tokens, Tensor(), rng);
  }, {w.requires_grad_()}, opt));
}

TEST_CASE("RAdam follows its formula: unrectified steps first, then rectified Adam steps with decay") {
  const double b1 = 0.9, b2 = 0.98, eps = 1e-8, wd = 0.1, lr = 0.01;
  Tensor w = from_vector({0.5, -1.0, 2.0, 0.25}, {2, 2});
  Tensor bias = from_vector({0.3, -0.2}, {2});
  nn::NamedParams params = {{"layer.weight", &w}, {"layer.bias", &bias}};
  nn::RAdam opt(params, {b1, b2}, eps, wd);
  // The reference: the formula of nn/radam.h per element, in plain doubles.
  std::vector<double> p = {0.5, -1.0, 2.0, 0.25, 0.3, -0.2}, m(6, 0), v(6, 0);
  const double rho_inf = 2 / (1 - b2) - 1;
  int rectified_steps = 0;
  for (int t = 1; t <= 12; ++t) {
    std::vector<double> grad(6);
    for (int k = 0; k < 6; ++k) grad[k] = std::sin(1.3 * t + k) + 0.1 * p[k];
    w.impl()->grad = from_vector({grad[0], grad[1], grad[2], grad[3]}, {2, 2}).impl_ptr();
    bias.impl()->grad = from_vector({grad[4], grad[5]}, {2}).impl_ptr();
    opt.step(lr);
    const double b2t = std::pow(b2, t), rho = rho_inf - 2 * t * b2t / (1 - b2t);
    for (int k = 0; k < 6; ++k) {
      if (k < 4) p[k] -= lr * wd * p[k];  // decay: matrices only
      m[k] = b1 * m[k] + (1 - b1) * grad[k];
      v[k] = b2 * v[k] + (1 - b2) * grad[k] * grad[k];
      const double mh = m[k] / (1 - std::pow(b1, t));
      if (rho > 5) {
        const double r = std::sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho));
        p[k] -= lr * r * mh / (std::sqrt(v[k] / (1 - b2t)) + eps);
      } else {
        p[k] -= lr * mh;
      }
    }
    rectified_steps += rho > 5;
    for (int k = 0; k < 4; ++k) CHECK(w.to_vector()[k] == doctest::Approx(p[k]).epsilon(1e-12));
    for (int k = 0; k < 2; ++k) CHECK(bias.to_vector()[k] == doctest::Approx(p[4 + k]).epsilon(1e-12));
  }
  CHECK(rectified_steps == 7);  // rho_t > 5 from t = 6 on with beta2 = 0.98
  CHECK(nn::RAdam::rectification(0.98, 5) == 0);
  CHECK(nn::RAdam::rectification(0.98, 6) > 0);
  CHECK(opt.state_dict().count("optim.exp_avg.layer.weight") == 1);
}
