// nn/optim.cpp: AdamW, SGD, gradient clipping. Updates are plain loops over
// the parameters' float/double buffers, computed in double per element.
#include "nn/optim.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "autograd/autograd.h"

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
  if (p.device() != Device::CPU)
    fail(fmt::format("{}: parameter '{}' is on {}; optimizers update CPU parameters", op, name, device_name(p.device())));
  if (!p.is_contiguous())
    fail(fmt::format("{}: parameter '{}' (shape {}) is not contiguous", op, name, shape_str(p.shape())));
}

// The gradient of p as a contiguous CPU tensor of p's dtype and shape (read only).
Tensor checked_grad(const char* op, const std::string& name, const Tensor& p) {
  Tensor g = p.grad();
  if (g.shape() != p.shape())
    fail(fmt::format("{}: gradient of '{}' has shape {} but the parameter has {}", op, name, shape_str(g.shape()),
                     shape_str(p.shape())));
  if (g.dtype() != p.dtype())
    fail(fmt::format("{}: gradient of '{}' has dtype {} but the parameter has {}", op, name, dtype_name(g.dtype()),
                     dtype_name(p.dtype())));
  if (g.device() != Device::CPU) fail(fmt::format("{}: gradient of '{}' is not on the CPU", op, name));
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

template <class T>
double sum_of_squares(const T* x, int64_t n) {
  double s = 0.0;
  for (int64_t k = 0; k < n; ++k) s += static_cast<double>(x[k]) * static_cast<double>(x[k]);
  return s;
}

template <class T>
bool all_finite(const T* x, int64_t n) {
  for (int64_t k = 0; k < n; ++k)
    if (!std::isfinite(x[k])) return false;
  return true;
}

Tensor scalar_i64(int64_t v) { return from_vector_i64({v}, {}); }

int64_t read_count(const std::string& key, const Tensor& t) {
  double v = t.item();
  if (!(v >= 0) || v != std::floor(v))
    fail(fmt::format("Optimizer::load_state_dict: entry '{}' must be a non-negative integer count, got {}", key, v));
  return static_cast<int64_t>(v);
}

struct AdamScalars {
  double lr, decay, beta1, beta2, eps, bias1, bias2;  // decay = lr * wd; bias_i = 1 - beta_i^t
};

template <class T>
void adamw_update(T* p, const T* g, T* m, T* v, int64_t n, const AdamScalars& s) {
#pragma omp parallel for if (n > (1 << 16))
  for (int64_t k = 0; k < n; ++k) {
    double pk = p[k] - s.decay * p[k];
    double gk = g[k];
    double mk = s.beta1 * m[k] + (1 - s.beta1) * gk;
    double vk = s.beta2 * v[k] + (1 - s.beta2) * gk * gk;
    pk -= s.lr * (mk / s.bias1) / (std::sqrt(vk / s.bias2) + s.eps);
    m[k] = static_cast<T>(mk);
    v[k] = static_cast<T>(vk);
    p[k] = static_cast<T>(pk);
  }
}

struct SgdScalars {
  double lr, momentum, weight_decay;
  bool nesterov, first;  // first: the buffer starts as g
};

// buf may be null when momentum is 0.
template <class T>
void sgd_update(T* p, const T* g, T* buf, int64_t n, const SgdScalars& s) {
#pragma omp parallel for if (n > (1 << 16))
  for (int64_t k = 0; k < n; ++k) {
    double gk = g[k] + s.weight_decay * p[k];
    double step = gk;
    if (buf != nullptr) {
      double b = s.first ? gk : s.momentum * buf[k] + gk;
      buf[k] = static_cast<T>(b);
      step = s.nesterov ? gk + s.momentum * b : b;
    }
    p[k] = static_cast<T>(p[k] - s.lr * step);
  }
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
    if (it == state.end()) fail(fmt::format("Optimizer::load_state_dict: missing entry '{}'", key));
    if (it->second.shape() != shape)
      fail(fmt::format("Optimizer::load_state_dict: entry '{}' has shape {}, expected {}", key,
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
      slots[slot].push_back(src.dtype() == p->dtype() ? src.clone() : src.to(p->dtype()));
    }
  }
  for (const auto& [key, t] : state)
    if (!expected.count(key))
      fail(fmt::format("Optimizer::load_state_dict: unexpected entry '{}' (no such parameter or state)", key));
  step_count_ = step_count;
  param_steps_ = std::move(param_steps);
  slots_ = std::move(slots);
}

// ---- AdamW ----

bool applies_weight_decay(const std::string& name, const Tensor& p) {
  const std::string suffix = "weight";
  bool ends_in_weight = name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  return ends_in_weight && p.dim() >= 2;
}

AdamW::AdamW(const NamedParams& params, std::array<double, 2> betas, double eps, double weight_decay)
    : Optimizer(params), beta1_(betas[0]), beta2_(betas[1]), eps_(eps), weight_decay_(weight_decay) {
  if (!(beta1_ >= 0 && beta1_ < 1) || !(beta2_ >= 0 && beta2_ < 1))
    fail(fmt::format("AdamW: betas must lie in [0, 1), got ({}, {})", beta1_, beta2_));
  if (!(eps_ >= 0)) fail(fmt::format("AdamW: eps must be >= 0, got {}", eps_));
  if (!(weight_decay_ >= 0)) fail(fmt::format("AdamW: weight_decay must be >= 0, got {}", weight_decay_));
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
    Tensor& m = slot("exp_avg", i);
    Tensor& v = slot("exp_avg_sq", i);
    dispatch_float(p->dtype(), "AdamW", [&](auto zero) {
      using T = decltype(zero);
      adamw_update(p->data<T>(), g.data<T>(), m.data<T>(), v.data<T>(), p->numel(), s);
    });
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
    Tensor* buf = momentum_ != 0 ? &slot("momentum_buffer", i) : nullptr;
    dispatch_float(p->dtype(), "SGD", [&](auto zero) {
      using T = decltype(zero);
      sgd_update(p->data<T>(), g.data<T>(), buf ? buf->data<T>() : nullptr, p->numel(), s);
    });
  }
}

// ---- gradient utilities ----

double clip_grad_norm(const NamedParams& params, double max_norm) {
  NoGradGuard no_grad;
  NamedParams unique = unique_params("clip_grad_norm", params);
  double sum_sq = 0.0;
  for (const auto& [name, p] : unique) {
    if (!p->grad().defined()) continue;
    Tensor g = checked_grad("clip_grad_norm", name, *p);
    sum_sq += dispatch_float(g.dtype(), "clip_grad_norm",
                             [&](auto zero) { return sum_of_squares(g.data<decltype(zero)>(), g.numel()); });
  }
  const double norm = std::sqrt(sum_sq);
  if (max_norm <= 0 || !std::isfinite(norm) || norm <= max_norm) return norm;
  const double scale = max_norm / (norm + 1e-6);
  for (const auto& [name, p] : unique) {
    if (!p->grad().defined()) continue;
    Tensor g = owned_grad(p);
    dispatch_float(g.dtype(), "clip_grad_norm", [&](auto zero) {
      using T = decltype(zero);
      T* x = g.data<T>();
      for (int64_t k = 0; k < g.numel(); ++k) x[k] = static_cast<T>(x[k] * scale);
    });
  }
  return norm;
}

bool grads_finite(const NamedParams& params) {
  for (const auto& [name, p] : params) {
    if (p == nullptr || !p->defined() || !p->grad().defined()) continue;
    Tensor g = checked_grad("grads_finite", name, *p);
    bool ok = dispatch_float(g.dtype(), "grads_finite",
                             [&](auto zero) { return all_finite(g.data<decltype(zero)>(), g.numel()); });
    if (!ok) return false;
  }
  return true;
}

}  // namespace seqboat::nn
