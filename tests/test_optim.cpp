// Tests for nn/optim, nn/schedule and nn/checkpoint: AdamW and SGD against
// values worked out by hand from the formulas, gradient clipping, learning-rate
// schedules, bitwise resumption through a checkpoint file, and checkpoint errors.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "nn/checkpoint.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "tensor/random.h"
#include "tensor/serialize.h"
#include "test_util.h"

using namespace seqboat;
namespace fs = std::filesystem;
using doctest::Contains;

namespace {

// proj.weight (1x2 matrix: decays), proj.bias and norm.weight (1-d: no decay),
// unused (never gets a gradient).
class TinyModel : public nn::Module {
 public:
  TinyModel() {
    proj_weight = from_vector({1.0, -2.0}, {1, 2});
    proj_bias = from_vector({1.0, -2.0}, {2});
    norm_weight = from_vector({1.0, -2.0}, {2});
    unused = from_vector({5.0}, {1});
    register_parameter("proj.weight", &proj_weight);
    register_parameter("proj.bias", &proj_bias);
    register_parameter("norm.weight", &norm_weight);
    register_parameter("unused", &unused);
  }
  Tensor proj_weight, proj_bias, norm_weight, unused;
};

// Random parameters of both float dtypes and an int64 buffer.
class RandomModel : public nn::Module {
 public:
  explicit RandomModel(uint64_t seed) {
    Generator gen(seed);
    weight = rand_normal({3, 4}, 0.0, 1.0, DType::Float32, &gen);
    bias = rand_normal({4}, 0.0, 1.0, DType::Float64, &gen);
    counter = from_vector_i64({7, 8}, {2});
    register_parameter("layer.weight", &weight);
    register_parameter("layer.bias", &bias);
    register_buffer("counter", &counter);
  }
  Tensor weight, bias, counter;
};

using seqboat::testing::TempDir;

void set_grad(Tensor& p, const std::vector<double>& values) {
  p.impl()->grad = from_vector(values, p.shape(), p.dtype()).impl_ptr();
}

void check_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  std::vector<double> got = t.to_vector();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], ", expected ", expected[i]);
    CHECK(std::abs(got[i] - expected[i]) <= tol);
  }
}

// Gradients that depend on the parameters and the step: g = sin(3 p + 0.1 step).
void fake_backward(nn::Module& model, int64_t step) {
  for (auto& [name, p] : model.named_parameters()) {
    std::vector<double> g = p->to_vector();
    for (double& x : g) x = std::sin(3 * x + 0.1 * static_cast<double>(step));
    set_grad(*p, g);
  }
}

void check_bitwise_equal(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  REQUIRE(a.size() == b.size());
  for (const auto& [name, t] : a) {
    INFO("tensor ", name);
    REQUIRE(b.count(name));
    CHECK(t.dtype() == b.at(name).dtype());
    CHECK(t.shape() == b.at(name).shape());
    CHECK(t.to_vector() == b.at(name).to_vector());
  }
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

// ---- AdamW ----

TEST_CASE("AdamW: two steps against hand-computed values; decay only on matrices named *weight") {
  // lr 0.1, betas (0.9, 0.999), eps 1e-8, wd 0.01; every parameter starts at
  // [1, -2]; g1 = [0.5, -0.25], g2 = [0.1, 0.3].
  //
  // Step 1 (t = 1): m = 0.1 g1, v = 0.001 g1^2, so m/(1-0.9) = g1 and
  // sqrt(v/(1-0.999)) = |g1|: the Adam move is lr g/(|g| + eps) = 0.1 sign(g)
  // up to eps: 0.1 * 0.5/(0.5+1e-8) = 0.1 - 2e-9, 0.1 * 0.25/(0.25+1e-8) = 0.1 - 4e-9.
  //   proj.weight: decay first, p *= 1 - 0.1*0.01 = 0.999: [0.999, -1.998]
  //                then [0.999 - 0.1 + 2e-9, -1.998 + 0.1 - 4e-9] = [0.899 + 2e-9, -1.898 - 4e-9]
  //   proj.bias, norm.weight (1-d, no decay): [0.9 + 2e-9, -1.9 - 4e-9]
  //
  // Step 2 (t = 2): m = 0.9 [0.05, -0.025] + 0.1 [0.1, 0.3] = [0.055, 0.0075]
  //   v = 0.999 [0.00025, 0.0000625] + 0.001 [0.01, 0.09] = [0.00025975, 0.0001524375]
  //   1 - 0.9^2 = 0.19, 1 - 0.999^2 = 0.001999
  //   m_hat = [0.28947368421052632, 0.039473684210526316]
  //   v_hat = [0.12993996998499250, 0.076256878439219610], sqrt = [0.36047187128123, 0.27614648004134]
  //   move = 0.1 m_hat/(sqrt + 1e-8) = [0.080304095615348, 0.014294472547747]
  //   proj.weight: 0.999 * [0.899, -1.898] - move = [0.817796904384652, -1.910396472547747]
  //   1-d ones:    [0.9, -1.9] - move            = [0.819695904384652, -1.914294472547747]
  // (step-1 eps terms of 2e-9/4e-9 shrink by 0.999 or stay; they are included below.)
  TinyModel model;
  nn::AdamW opt(model.named_parameters(), {0.9, 0.999}, 1e-8, 0.01);
  const Tensor weight_alias = model.proj_weight;  // the update must write into this storage
  const TensorImpl* weight_impl = model.proj_weight.impl();

  for (Tensor* p : {&model.proj_weight, &model.proj_bias, &model.norm_weight}) set_grad(*p, {0.5, -0.25});
  opt.step(0.1);
  check_values(model.proj_weight, {0.899 + 2e-9, -1.898 - 4e-9});
  check_values(model.proj_bias, {0.9 + 2e-9, -1.9 - 4e-9});
  check_values(model.norm_weight, {0.9 + 2e-9, -1.9 - 4e-9});
  check_values(model.unused, {5.0});  // no gradient: skipped

  opt.zero_grad();
  CHECK_FALSE(model.proj_weight.grad().defined());
  for (Tensor* p : {&model.proj_weight, &model.proj_bias, &model.norm_weight}) set_grad(*p, {0.1, 0.3});
  opt.step(0.1);
  check_values(model.proj_weight, {0.817796904384652 + 0.999 * 2e-9, -1.910396472547747 - 0.999 * 4e-9});
  check_values(model.proj_bias, {0.819695904384652 + 2e-9, -1.914294472547747 - 4e-9});
  check_values(model.norm_weight, {0.819695904384652 + 2e-9, -1.914294472547747 - 4e-9});
  check_values(model.unused, {5.0});

  CHECK(model.proj_weight.impl() == weight_impl);
  CHECK(weight_alias.to_vector() == model.proj_weight.to_vector());
  CHECK(model.proj_weight.requires_grad());
  auto state = opt.state_dict();
  CHECK(state.at("optim.step").item() == 2);
  CHECK(state.at("optim.step.proj.weight").item() == 2);
  CHECK(state.at("optim.step.unused").item() == 0);  // its bias correction starts at its first update
  check_values(state.at("optim.exp_avg.proj.bias"), {0.055, 0.0075}, 1e-15);
  check_values(state.at("optim.exp_avg_sq.proj.bias"), {0.00025975, 0.0001524375}, 1e-15);
}

TEST_CASE("AdamW: the weight-decay rule") {
  CHECK(nn::applies_weight_decay("proj.weight", zeros({2, 3})));
  CHECK(nn::applies_weight_decay("embed.weight", zeros({10, 4})));
  CHECK(nn::applies_weight_decay("conv.weight", zeros({2, 3, 4})));
  CHECK_FALSE(nn::applies_weight_decay("norm.weight", zeros({3})));  // 1-d scale
  CHECK_FALSE(nn::applies_weight_decay("proj.bias", zeros({2, 3})));
  CHECK_FALSE(nn::applies_weight_decay("weight_proj", zeros({2, 3})));
  CHECK_FALSE(nn::applies_weight_decay("ema.alpha", zeros({4, 2})));
}

TEST_CASE("AdamW: float32 parameters, invalid hyper-parameters") {
  Tensor w = from_vector({1.0, -2.0}, {2}, DType::Float32).requires_grad_();
  nn::AdamW opt({{"w", &w}});
  set_grad(w, {0.5, -0.25});
  opt.step(0.1);
  check_values(w, {0.9, -1.9}, 1e-6);
  CHECK(w.dtype() == DType::Float32);

  CHECK_THROWS_WITH_AS(nn::AdamW({{"w", &w}}, {0.9, 1.0}), Contains("betas must lie in [0, 1)"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(nn::AdamW({{"w", &w}}, {0.9, 0.999}, -1.0), Contains("eps"), std::invalid_argument);
  Tensor ints = from_vector_i64({1}, {1});
  CHECK_THROWS_WITH_AS(nn::AdamW({{"steps", &ints}}), Contains("parameter 'steps' has dtype int64"),
                       std::invalid_argument);
  Tensor bad_grad = from_vector({1.0, 2.0}, {2});
  bad_grad.requires_grad_();
  nn::SGD sgd({{"b", &bad_grad}});
  bad_grad.impl()->grad = from_vector({1.0, 2.0, 3.0}, {3}).impl_ptr();
  CHECK_THROWS_WITH_AS(sgd.step(0.1), Contains("gradient of 'b' has shape [3] but the parameter has [2]"),
                       std::invalid_argument);
}

TEST_CASE("Optimizer: tied weights are updated once") {
  Tensor w = from_vector({1.0}, {1}).requires_grad_();
  nn::SGD opt({{"a.weight", &w}, {"b.weight", &w}}, 0.0);
  CHECK(opt.params().size() == 1);
  set_grad(w, {1.0});
  opt.step(0.5);
  check_values(w, {0.5});
  CHECK(opt.state_dict().count("optim.step.a.weight"));
}

// ---- SGD ----

TEST_CASE("SGD: momentum and nesterov over three steps against hand-computed values") {
  // lr 0.1, momentum 0.9, p0 = [1, -1]; g1 = [1, 2], g2 = [0.5, -1], g3 = [0, 1].
  // buf1 = g1 = [1, 2]; buf2 = 0.9 buf1 + g2 = [1.4, 0.8]; buf3 = 0.9 buf2 + g3 = [1.26, 1.72].
  // Plain:    p1 = p0 - 0.1 buf1 = [0.9, -1.2]; p2 = [0.76, -1.28]; p3 = [0.634, -1.452].
  // Nesterov: g' = g + 0.9 buf: [1.9, 3.8], [1.76, -0.28], [1.134, 2.548]
  //           p1 = [0.81, -1.38]; p2 = [0.634, -1.352]; p3 = [0.5206, -1.6068].
  const std::vector<std::vector<double>> grads = {{1, 2}, {0.5, -1}, {0, 1}};
  const std::vector<std::vector<double>> plain = {{0.9, -1.2}, {0.76, -1.28}, {0.634, -1.452}};
  const std::vector<std::vector<double>> nesterov = {{0.81, -1.38}, {0.634, -1.352}, {0.5206, -1.6068}};
  for (bool use_nesterov : {false, true}) {
    INFO("nesterov ", use_nesterov);
    Tensor p = from_vector({1.0, -1.0}, {2}).requires_grad_();
    nn::SGD opt({{"p", &p}}, 0.9, 0.0, use_nesterov);
    for (size_t s = 0; s < grads.size(); ++s) {
      set_grad(p, grads[s]);
      opt.step(0.1);
      check_values(p, use_nesterov ? nesterov[s] : plain[s]);
    }
    check_values(opt.state_dict().at("optim.momentum_buffer.p"), {1.26, 1.72});
  }
}

TEST_CASE("SGD: L2 weight decay and no momentum") {
  // wd 0.1, no momentum: g' = g + 0.1 p = [1 + 0.1, 2 - 0.1] = [1.1, 1.9]; p1 = p0 - 0.1 g' = [0.89, -1.19].
  Tensor p = from_vector({1.0, -1.0}, {2}).requires_grad_();
  nn::SGD opt({{"p", &p}}, 0.0, 0.1);
  set_grad(p, {1, 2});
  opt.step(0.1);
  check_values(p, {0.89, -1.19});
  CHECK_FALSE(opt.state_dict().count("optim.momentum_buffer.p"));
  CHECK_THROWS_WITH_AS(nn::SGD({{"p", &p}}, 0.0, 0.0, true), Contains("nesterov momentum needs momentum > 0"),
                       std::invalid_argument);
}

// ---- gradient utilities ----

TEST_CASE("clip_grad_norm: norm, scaling, no-op below the threshold") {
  // Grads [3, 0] and [[0, 4]]: global norm sqrt(9 + 16) = 5.
  Tensor a = from_vector({1, 1}, {2}).requires_grad_();
  Tensor b = from_vector({1, 1}, {1, 2}, DType::Float32).requires_grad_();
  Tensor c = from_vector({1}, {1}).requires_grad_();  // no gradient: ignored
  nn::NamedParams params = {{"a", &a}, {"b", &b}, {"c", &c}};
  auto reset = [&] {
    set_grad(a, {3, 0});
    set_grad(b, {0, 4});
  };

  reset();
  CHECK(nn::clip_grad_norm(params, 10.0) == doctest::Approx(5.0).epsilon(1e-15));
  check_values(a.grad(), {3, 0});
  check_values(b.grad(), {0, 4});
  CHECK(nn::clip_grad_norm(params, 0.0) == doctest::Approx(5.0));  // max_norm <= 0: no clipping
  check_values(a.grad(), {3, 0});

  // Clipped to 1: scale 1 / (5 + 1e-6), so [0.6, 0] and [0, 0.8] up to 1.2e-7 relative.
  CHECK(nn::clip_grad_norm(params, 1.0) == doctest::Approx(5.0).epsilon(1e-15));
  check_values(a.grad(), {3.0 / (5.0 + 1e-6), 0});
  check_values(b.grad(), {0, 4.0 / (5.0 + 1e-6)}, 1e-7);  // float32
  CHECK(nn::clip_grad_norm(params, 10.0) == doctest::Approx(1.0).epsilon(1e-6));
  CHECK_FALSE(c.grad().defined());
}

TEST_CASE("clip_grad_norm: gradients shared by several leaves are scaled once") {
  // loss = sum(x + y): autograd may hand both leaves the same gradient tensor
  // (all ones). Norm sqrt(2 + 2) = 2; clipped to 1 each becomes 1/(2 + 1e-6).
  Tensor x = from_vector({1, 2}, {2}).requires_grad_();
  Tensor y = from_vector({3, 4}, {2}).requires_grad_();
  sum(add(x, y)).backward();
  const Tensor held = x.grad();  // a user-held handle must not break anything
  CHECK(nn::clip_grad_norm({{"x", &x}, {"y", &y}}, 1.0) == doctest::Approx(2.0));
  const double v = 1.0 / (2.0 + 1e-6);
  check_values(x.grad(), {v, v});
  check_values(y.grad(), {v, v});
}

TEST_CASE("grads_finite") {
  Tensor a = from_vector({1, 1}, {2}).requires_grad_();
  Tensor b = from_vector({1}, {1}).requires_grad_();
  nn::NamedParams params = {{"a", &a}, {"b", &b}};
  CHECK(nn::grads_finite(params));  // no gradients at all
  set_grad(a, {1, 2});
  CHECK(nn::grads_finite(params));
  set_grad(b, {std::numeric_limits<double>::quiet_NaN()});
  CHECK_FALSE(nn::grads_finite(params));
  set_grad(b, {std::numeric_limits<double>::infinity()});
  CHECK_FALSE(nn::grads_finite(params));
  const double norm = nn::clip_grad_norm(params, 1.0);
  CHECK(std::isinf(norm));
  check_values(a.grad(), {1, 2});  // a non-finite norm leaves the gradients alone
}

// ---- schedules ----

TEST_CASE("LrSchedule: warmup, constant, linear and cosine decay, floor") {
  using S = nn::LrSchedule;
  // warmup 4: (step + 1) / 4 * lr.
  S constant{1.0, 4, 12, S::Constant};
  CHECK(constant.at(0) == doctest::Approx(0.25));
  CHECK(constant.at(1) == doctest::Approx(0.5));
  CHECK(constant.at(3) == doctest::Approx(1.0));  // end of warmup
  CHECK(constant.at(4) == doctest::Approx(1.0));
  CHECK(constant.at(1000) == doctest::Approx(1.0));

  // Linear over steps 4..12: p = (step - 4) / 8.
  S linear{2.0, 4, 12, S::Linear};
  CHECK(linear.at(4) == doctest::Approx(2.0));
  CHECK(linear.at(8) == doctest::Approx(1.0));   // p = 0.5
  CHECK(linear.at(10) == doctest::Approx(0.5));  // p = 0.75
  CHECK(linear.at(12) == doctest::Approx(0.0));
  CHECK(linear.at(50) == doctest::Approx(0.0));

  // Cosine: lr (1 + cos(pi p)) / 2; midpoint p = 0.5 gives lr / 2, p = 0.25 gives lr (1 + sqrt(2)/2) / 2.
  S cosine{2.0, 4, 12, S::Cosine};
  CHECK(cosine.at(4) == doctest::Approx(2.0));
  CHECK(cosine.at(6) == doctest::Approx(1.0 + std::sqrt(0.5)));
  CHECK(cosine.at(8) == doctest::Approx(1.0));
  CHECK(cosine.at(12) == doctest::Approx(0.0));

  // Floor 0.1 lr = 0.2: midpoints 0.2 + (2 - 0.2) / 2 = 1.1; end 0.2.
  S cosine_floor{2.0, 4, 12, S::Cosine, 0.1};
  S linear_floor{2.0, 4, 12, S::Linear, 0.1};
  CHECK(cosine_floor.at(8) == doctest::Approx(1.1));
  CHECK(linear_floor.at(8) == doctest::Approx(1.1));
  CHECK(cosine_floor.at(12) == doctest::Approx(0.2));
  CHECK(linear_floor.at(99) == doctest::Approx(0.2));

  S no_warmup{0.5, 0, 10, S::Linear};
  CHECK(no_warmup.at(0) == doctest::Approx(0.5));
  CHECK(no_warmup.at(5) == doctest::Approx(0.25));

  CHECK_THROWS_WITH_AS((S{1.0, 10, 10, S::Cosine}.at(0)), Contains("total_steps (10) > warmup_steps (10)"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(constant.at(-1), Contains("step must be >= 0"), std::invalid_argument);
}

TEST_CASE("parse_decay") {
  CHECK(nn::parse_decay("constant") == nn::LrSchedule::Constant);
  CHECK(nn::parse_decay("linear") == nn::LrSchedule::Linear);
  CHECK(nn::parse_decay("cosine") == nn::LrSchedule::Cosine);
  CHECK_THROWS_WITH_AS(nn::parse_decay("exp"),
                       Contains("unknown learning-rate decay 'exp' (valid: constant, linear, cosine)"),
                       std::invalid_argument);
}

// ---- resumption ----

namespace {

std::unique_ptr<nn::Optimizer> make_optimizer(const std::string& kind, nn::Module& model) {
  if (kind == "adamw") return std::make_unique<nn::AdamW>(model.named_parameters(), std::array{0.9, 0.99}, 1e-8, 0.1);
  return std::make_unique<nn::SGD>(model.named_parameters(), 0.9, 0.01, true);
}

void train(nn::Module& model, nn::Optimizer& opt, int64_t from, int64_t to) {
  const nn::LrSchedule schedule{0.05, 2, 5, nn::LrSchedule::Cosine, 0.1};
  for (int64_t step = from; step < to; ++step) {
    fake_backward(model, step);
    nn::clip_grad_norm(model.named_parameters(), 1.0);
    opt.step(schedule.at(step));
    opt.zero_grad();
  }
}

}  // namespace

TEST_CASE("Optimizer state through a checkpoint file: 3 + 2 steps equal 5 steps bitwise") {
  for (std::string kind : {"adamw", "sgd"}) {
    INFO("optimizer ", kind);
    TempDir dir;
    auto straight = std::make_shared<RandomModel>(1);
    auto straight_opt = make_optimizer(kind, *straight);
    train(*straight, *straight_opt, 0, 5);

    auto first = std::make_shared<RandomModel>(1);
    auto first_opt = make_optimizer(kind, *first);
    train(*first, *first_opt, 0, 3);
    nn::Checkpoint saved;
    saved.model = first->state_dict();
    saved.optimizer = first_opt->state_dict();
    saved.step = 3;
    nn::save_checkpoint(dir.file("ckpt.safetensors"), saved);

    auto resumed = std::make_shared<RandomModel>(99);  // different initial values, overwritten by the load
    auto resumed_opt = make_optimizer(kind, *resumed);
    nn::Checkpoint ckpt = nn::load_checkpoint(dir.file("ckpt.safetensors"));
    resumed->load_state_dict(ckpt.model);
    resumed_opt->load_state_dict(ckpt.optimizer);
    CHECK(resumed_opt->step_count() == 3);
    train(*resumed, *resumed_opt, ckpt.step, 5);

    check_bitwise_equal(straight->state_dict(), resumed->state_dict());
    check_bitwise_equal(straight_opt->state_dict(), resumed_opt->state_dict());
    CHECK(resumed->weight.dtype() == DType::Float32);
  }
}

TEST_CASE("Optimizer::load_state_dict: missing, mis-shaped and unknown entries") {
  auto model = std::make_shared<RandomModel>(1);
  nn::AdamW opt(model->named_parameters());
  train(*model, opt, 0, 2);
  const auto good = opt.state_dict();

  auto missing = good;
  missing.erase("optim.exp_avg.layer.bias");
  CHECK_THROWS_WITH_AS(opt.load_state_dict(missing), Contains("missing entry 'optim.exp_avg.layer.bias'"),
                       std::invalid_argument);
  auto misshaped = good;
  misshaped["optim.exp_avg_sq.layer.weight"] = zeros({4, 3});
  CHECK_THROWS_WITH_AS(opt.load_state_dict(misshaped),
                       Contains("entry 'optim.exp_avg_sq.layer.weight' has shape [4, 3], expected [3, 4]"),
                       std::invalid_argument);
  auto unknown = good;
  unknown["optim.exp_avg.ghost"] = zeros({1});
  CHECK_THROWS_WITH_AS(opt.load_state_dict(unknown), Contains("unexpected entry 'optim.exp_avg.ghost'"),
                       std::invalid_argument);
  auto no_counter = good;
  no_counter.erase("optim.step");
  CHECK_THROWS_WITH_AS(opt.load_state_dict(no_counter), Contains("missing entry 'optim.step'"), std::invalid_argument);
  check_bitwise_equal(good, opt.state_dict());  // failed loads change nothing

  // SGD state does not fit AdamW.
  nn::SGD sgd(model->named_parameters());
  CHECK_THROWS_WITH_AS(sgd.load_state_dict(good), Contains("missing entry 'optim.momentum_buffer.layer.weight'"),
                       std::invalid_argument);
}

// ---- checkpoint files ----

TEST_CASE("Checkpoint: save/load round trip and file layout") {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  auto model = std::make_shared<RandomModel>(3);
  nn::AdamW opt(model->named_parameters());
  train(*model, opt, 0, 1);
  Generator gen(1234);
  for (int i = 0; i < 3; ++i) gen.next_u64();

  nn::Checkpoint ckpt;
  ckpt.model = model->state_dict();
  ckpt.optimizer = opt.state_dict();
  ckpt.step = 123456789012345;
  ckpt.rng_states = {gen.state(), {UINT64_MAX, 1, (uint64_t{1} << 53) + 1, 0}};
  ckpt.config_json = R"({"d_model": 8, "name": "tiny"})";
  ckpt.extra = {{"git", "abc123"}, {"note", "hello"}};
  nn::save_checkpoint(path, ckpt);

  nn::Checkpoint back = nn::load_checkpoint(path);
  check_bitwise_equal(ckpt.model, back.model);
  check_bitwise_equal(ckpt.optimizer, back.optimizer);
  CHECK(back.step == ckpt.step);
  CHECK(back.rng_states == ckpt.rng_states);
  CHECK(back.config_json == ckpt.config_json);
  CHECK(back.extra == ckpt.extra);
  Generator restored;
  restored.set_state(back.rng_states[0]);
  CHECK(restored.next_u64() == gen.next_u64());

  // One plain safetensors file: weights under their own names, like a PyTorch state_dict.
  TensorFile raw = load_tensors(path);
  CHECK(raw.tensors.count("layer.weight"));
  CHECK(raw.tensors.count("counter"));
  CHECK(raw.tensors.count("optim.exp_avg.layer.weight"));
  CHECK(raw.metadata.at("format") == "seqboat-checkpoint/1");
  CHECK(raw.metadata.at("step") == "123456789012345");
  CHECK(raw.metadata.at("rng").find(R"(["18446744073709551615","1","9007199254740993","0"])") != std::string::npos);
  CHECK(raw.metadata.at("note") == "hello");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);  // no temporary left behind
}

TEST_CASE("Checkpoint: invalid checkpoints are refused when saving") {
  TempDir dir;
  nn::Checkpoint ckpt;
  ckpt.model["optim.x"] = zeros({1});
  CHECK_THROWS_WITH_AS(nn::save_checkpoint(dir.file("a"), ckpt),
                       Contains("model tensor 'optim.x' uses the reserved prefix"), std::invalid_argument);
  ckpt.model.clear();
  ckpt.optimizer["exp_avg.w"] = zeros({1});
  CHECK_THROWS_WITH_AS(nn::save_checkpoint(dir.file("a"), ckpt), Contains("'exp_avg.w' must start with 'optim.'"),
                       std::invalid_argument);
  ckpt.optimizer.clear();
  ckpt.extra["rng"] = "x";
  CHECK_THROWS_WITH_AS(nn::save_checkpoint(dir.file("a"), ckpt), Contains("key 'rng' is reserved"),
                       std::invalid_argument);
  ckpt.extra.clear();
  ckpt.config_json = "{oops";
  CHECK_THROWS_WITH_AS(nn::save_checkpoint(dir.file("a"), ckpt), Contains("config is not valid JSON"),
                       std::invalid_argument);
  CHECK_FALSE(fs::exists(dir.file("a")));
}

TEST_CASE("Checkpoint: loading errors name the file and the problem") {
  TempDir dir;
  const std::string good = dir.file("good.safetensors");
  nn::Checkpoint ckpt;
  ckpt.model["w"] = from_vector({1, 2, 3, 4}, {2, 2});
  ckpt.rng_states = {{1, 2, 3, 4}};
  nn::save_checkpoint(good, ckpt);
  const std::vector<uint8_t> bytes = read_bytes(good);

  const std::string truncated = dir.file("truncated.safetensors");
  write_bytes(truncated, std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() - 5)));
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(truncated), Contains(truncated.c_str()), std::runtime_error);
  write_bytes(truncated, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 4));
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(truncated), Contains(truncated.c_str()), std::runtime_error);

  const std::string garbage = dir.file("garbage.safetensors");
  const std::string text = "this is not a checkpoint at all, just some text";
  write_bytes(garbage, std::vector<uint8_t>(text.begin(), text.end()));
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(garbage), Contains(garbage.c_str()), std::runtime_error);

  const std::string missing = dir.file("missing.safetensors");
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(missing), Contains(missing.c_str()), std::runtime_error);

  // Valid safetensors, but not a checkpoint.
  const std::string plain = dir.file("plain.safetensors");
  save_tensors(plain, {{{"w", zeros({2})}}, {}});
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(plain),
                       Contains((plain + ": not a seqboat checkpoint (metadata 'format' is missing").c_str()),
                       std::runtime_error);
  save_tensors(plain, {{{"w", zeros({2})}}, {{"format", "pt"}}});
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(plain),
                       Contains("metadata 'format' is 'pt', expected 'seqboat-checkpoint/1'"), std::runtime_error);

  // Checkpoint format with a missing or malformed entry.
  auto with_metadata = [&](std::map<std::string, std::string> meta) {
    const std::string path = dir.file("meta.safetensors");
    meta.emplace("format", "seqboat-checkpoint/1");
    save_tensors(path, {{{"w", zeros({2})}}, meta});
    return path;
  };
  std::string path = with_metadata({{"rng", "[]"}, {"config", "{}"}});
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(path),
                       Contains((path + ": checkpoint metadata has no 'step' entry").c_str()), std::runtime_error);
  path = with_metadata({{"step", "1"}, {"config", "{}"}});
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(path), Contains("no 'rng' entry"), std::runtime_error);
  path = with_metadata({{"step", "1x"}, {"rng", "[]"}, {"config", "{}"}});
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(path), Contains("malformed 'step' metadata '1x'"), std::runtime_error);
  for (std::string rng : {R"([["1","2","3"]])", R"([[1,2,3,4]])", R"([["1","2","3","-4"]])",
                          R"([["1","2","3","18446744073709551616"]])", R"({"a": 1})", "not json"}) {
    INFO("rng ", rng);
    path = with_metadata({{"step", "1"}, {"rng", rng}, {"config", "{}"}});
    CHECK_THROWS_WITH_AS(nn::load_checkpoint(path), Contains((path + ": malformed 'rng' metadata").c_str()),
                         std::runtime_error);
  }
  path = with_metadata({{"step", "1"}, {"rng", "[]"}, {"config", "{bad"}});
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(path), Contains("'config' metadata is not valid JSON"), std::runtime_error);
}
