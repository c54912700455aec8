// nn/optim.cpp: AdamW, SGD, gradient clipping: the bookkeeping (state slots,
// step counts, state dicts); the per-element updates are the ops of
// ops/optim.h, so parameters may live on any device.
#include "nn/optim.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "autograd/autograd.h"
#include "ops/optim.h"
#include "tensor/safe_text.h"

namespace seqboat::nn {

namespace {

// Drops repeated tensors (tied weights), keeping the first name.
NamedParams unique_params(const char* op, const NamedParams& params) {
  NamedParams out;
  std::set<const TensorImpl*> seen_tensors;
  std::set<std::string> seen_names;
  for (const auto& [name, p] : params) {
    if (p == nullptr || !p->defined()) fail(fmt::format("{}: parameter '{}' is undefined", op, name));
    if (!seen_tensors.insert(p->impl()).second) continue;
    if (!seen_names.insert(name).second)
      fail(fmt::format("{}: two different parameters are both named '{}'", op, name));
    out.emplace_back(name, p);
  }
  return out;
}

void check_updatable(const char* op, const std::string& name, const Tensor& p) {
  if (!is_floating(p.dtype()))
    fail(fmt::format("{}: parameter '{}' has dtype {}; expected float32 or float64", op, name, dtype_name(p.dtype())));
  if (!p.is_contiguous())
    fail(fmt::format("{}: parameter '{}' (shape {}) is not contiguous", op, name, shape_str(p.shape())));
}

// The gradient of p as a contiguous tensor of p's dtype, shape and device (read only).
Tensor checked_grad(const char* op, const std::string& name, const Tensor& p) {
  Tensor g = p.grad();
  if (g.shape() != p.shape())
    fail(fmt::format("{}: gradient of '{}' has shape {} but the parameter has {}", op, name, shape_str(g.shape()),
                     shape_str(p.shape())));
  if (g.dtype() != p.dtype())
    fail(fmt::format("{}: gradient of '{}' has dtype {} but the parameter has {}", op, name, dtype_name(g.dtype()),
                     dtype_name(p.dtype())));
  if (g.device() != p.device())
    fail(fmt::format("{}: gradient of '{}' is on {} but the parameter on {}", op, name, device_name(g.device()),
                     device_name(p.device())));
  return g.contiguous();
}

// p's gradient, made contiguous and exclusively p's, so that it can be written
// in place: autograd may hand the same gradient tensor (or storage) to several
// leaves (e.g. both inputs of an add), which must not be scaled twice.
Tensor owned_grad(Tensor* p) {
  const std::shared_ptr<TensorImpl>& g = p->impl()->grad;
  bool exclusive = g.use_count() == 1 && g->storage.use_count() == 1;
  if (!exclusive || !Tensor(g).is_contiguous()) p->impl()->grad = Tensor(g).clone().impl_ptr();
  return p->grad();
}

Tensor scalar_i64(int64_t v) { return from_vector_i64({v}, {}); }

int64_t read_count(const std::string& key, const Tensor& t) {
  double v = t.item();
  if (!(v >= 0) || v != std::floor(v))
    fail(fmt::format("Optimizer::load_state_dict: entry {} must be a non-negative integer count, got {}",
                     quote_text(key), v));
  return static_cast<int64_t>(v);
}

}  // namespace

// ---- Optimizer ----

Optimizer::Optimizer(const NamedParams& params)
    : params_(unique_params("Optimizer", params)), param_steps_(params_.size(), 0) {
  for (const auto& [name, p] : params_) check_updatable("Optimizer", name, *p);
}

void Optimizer::zero_grad() {
  for (auto& [name, p] : params_) p->zero_grad();
}

void Optimizer::add_slot(const std::string& slot) {
  std::vector<Tensor>& tensors = slots_[slot];
  for (const auto& [name, p] : params_) tensors.push_back(zeros_like(*p));
}

Tensor& Optimizer::slot(const std::string& slot, size_t i) {
  Tensor& s = slots_.at(slot)[i];
  const auto& [name, p] = params_[i];
  if (s.shape() != p->shape())
    fail(fmt::format("Optimizer: parameter '{}' changed shape from {} to {} after the optimizer was created", name,
                     shape_str(s.shape()), shape_str(p->shape())));
  if (s.dtype() != p->dtype()) s = s.to(p->dtype());
  if (s.device() != p->device()) s = s.to(p->device());
  return s;
}

std::vector<size_t> Optimizer::begin_step(const char* op) {
  ++step_count_;
  std::vector<size_t> with_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& [name, p] = params_[i];
    check_updatable(op, name, *p);
    if (p->grad().defined()) with_grad.push_back(i);
  }
  return with_grad;
}

std::map<std::string, Tensor> Optimizer::state_dict() const {
  std::map<std::string, Tensor> out;
  out["optim.step"] = scalar_i64(step_count_);
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& name = params_[i].first;
    out["optim.step." + name] = scalar_i64(param_steps_[i]);
    for (const auto& [slot, tensors] : slots_) out["optim." + slot + "." + name] = tensors[i].clone();
  }
  return out;
}

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& state) {
  NoGradGuard no_grad;
  std::set<std::string> expected;
  auto entry = [&](const std::string& key, const Shape& shape) -> const Tensor& {
    expected.insert(key);
    auto it = state.find(key);
    if (it == state.end()) fail(fmt::format("Optimizer::load_state_dict: missing entry {}", quote_text(key)));
    if (it->second.shape() != shape)
      fail(fmt::format("Optimizer::load_state_dict: entry {} has shape {}, expected {}", quote_text(key),
                       shape_str(it->second.shape()), shape_str(shape)));
    return it->second;
  };
  // Validate everything before changing anything.
  int64_t step_count = read_count("optim.step", entry("optim.step", {}));
  std::vector<int64_t> param_steps;
  std::map<std::string, std::vector<Tensor>> slots;
  for (const auto& [name, p] : params_) {
    const std::string key = "optim.step." + name;
    param_steps.push_back(read_count(key, entry(key, {})));
    for (const auto& [slot, tensors] : slots_) {
      Tensor src = entry("optim." + slot + "." + name, p->shape()).detach();
      slots[slot].push_back(src.to(p->dtype()).to(p->device()).clone());
    }
  }
  for (const auto& [key, t] : state)
    if (!expected.count(key))
      fail(
          fmt::format("Optimizer::load_state_dict: unexpected entry {} (no such parameter or state)", quote_text(key)));
  step_count_ = step_count;
  param_steps_ = std::move(param_steps);
  slots_ = std::move(slots);
}

// ---- AdamW ----

bool applies_weight_decay(const std::string& name, const Tensor& p) {
  const std::string suffix = "weight";
  bool ends_in_weight =
      name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  return ends_in_weight && p.dim() >= 2;
}

void check_adam_hyperparameters(const char* optimizer, std::array<double, 2> betas, double eps, double weight_decay) {
  if (!(betas[0] >= 0 && betas[0] < 1) || !(betas[1] >= 0 && betas[1] < 1))
    fail(fmt::format("{}: betas must lie in [0, 1), got ({}, {})", optimizer, betas[0], betas[1]));
  if (!(eps >= 0)) fail(fmt::format("{}: eps must be >= 0, got {}", optimizer, eps));
  if (!(weight_decay >= 0)) fail(fmt::format("{}: weight_decay must be >= 0, got {}", optimizer, weight_decay));
}

AdamW::AdamW(const NamedParams& params, std::array<double, 2> betas, double eps, double weight_decay)
    : Optimizer(params), beta1_(betas[0]), beta2_(betas[1]), eps_(eps), weight_decay_(weight_decay) {
  check_adam_hyperparameters("AdamW", betas, eps, weight_decay);
  add_slot("exp_avg");
  add_slot("exp_avg_sq");
}

void AdamW::step(double lr) {
  NoGradGuard no_grad;
  for (size_t i : begin_step("AdamW")) {
    const auto& [name, p] = params_[i];
    Tensor g = checked_grad("AdamW", name, *p);
    const int64_t t = ++param_steps_[i];
    const double decay = applies_weight_decay(name, *p) ? lr * weight_decay_ : 0.0;
    const AdamScalars s{lr, decay, beta1_, beta2_, eps_, 1 - std::pow(beta1_, t), 1 - std::pow(beta2_, t)};
    adamw_update(*p, g, slot("exp_avg", i), slot("exp_avg_sq", i), s);
  }
}

// ---- SGD ----

SGD::SGD(const NamedParams& params, double momentum, double weight_decay, bool nesterov)
    : Optimizer(params), momentum_(momentum), weight_decay_(weight_decay), nesterov_(nesterov) {
  if (!(momentum_ >= 0)) fail(fmt::format("SGD: momentum must be >= 0, got {}", momentum_));
  if (!(weight_decay_ >= 0)) fail(fmt::format("SGD: weight_decay must be >= 0, got {}", weight_decay_));
  if (nesterov_ && momentum_ == 0) fail("SGD: nesterov momentum needs momentum > 0");
  if (momentum_ != 0) add_slot("momentum_buffer");
}

void SGD::step(double lr) {
  NoGradGuard no_grad;
  for (size_t i : begin_step("SGD")) {
    const auto& [name, p] = params_[i];
    Tensor g = checked_grad("SGD", name, *p);
    const SgdScalars s{lr, momentum_, weight_decay_, nesterov_, param_steps_[i] == 0};
    ++param_steps_[i];
    sgd_update(*p, g, momentum_ != 0 ? slot("momentum_buffer", i) : Tensor(), s);
  }
}

// ---- gradient utilities ----

double clip_grad_norm(const NamedParams& params, double max_norm) {
  NoGradGuard no_grad;
  NamedParams unique = unique_params("clip_grad_norm", params);
  double sum_sq = 0.0;
  for (const auto& [name, p] : unique) {
    if (!p->grad().defined()) continue;
    sum_sq += sum_of_squares(checked_grad("clip_grad_norm", name, *p));
  }
  const double norm = std::sqrt(sum_sq);
  if (max_norm <= 0 || !std::isfinite(norm) || norm <= max_norm) return norm;
  const double scale = max_norm / (norm + 1e-6);
  for (const auto& [name, p] : unique) {
    if (!p->grad().defined()) continue;
    scale_(owned_grad(p), scale);
  }
  return norm;
}

bool grads_finite(const NamedParams& params) {
  for (const auto& [name, p] : params) {
    if (p == nullptr || !p->defined() || !p->grad().defined()) continue;
    if (!all_finite(checked_grad("grads_finite", name, *p))) return false;
  }
  return true;
}

}  // namespace seqboat::nn
