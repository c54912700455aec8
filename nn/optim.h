// nn/optim.h: optimizers (AdamW, SGD) and gradient utilities (global-norm
// clipping, finiteness check) over a module's named parameters.
//
//   nn::AdamW opt(model->named_parameters());
//   loss.backward();
//   nn::clip_grad_norm(model->named_parameters(), 1.0);
//   opt.step(schedule.at(step));
//   opt.zero_grad();
//
// Updates run in place on the parameters' own (contiguous) storage, on their
// device, so the Tensor objects the module holds stay the same. Parameters without a
// gradient are skipped and their state does not advance. Per-parameter state
// (moments, momentum buffers, step counts) is created at construction, so
// state_dict() always holds every entry and load_state_dict() can say which
// one is missing or mis-shaped.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace seqboat::nn {

using NamedParams = std::vector<std::pair<std::string, Tensor*>>;

class Optimizer {
 public:
  // The same tensor listed twice (tied weights) is kept once, under its first name.
  explicit Optimizer(const NamedParams& params);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual void step(double lr) = 0;
  void zero_grad();  // drops every parameter's gradient

  // Entries: `optim.step` (int64, number of step() calls), and per parameter
  // `optim.step.<name>` (int64, updates it received) and one tensor per state
  // slot, `optim.<slot>.<name>` (e.g. optim.exp_avg.<name>). Values are copies.
  virtual std::map<std::string, Tensor> state_dict() const;
  // Every entry above must be present with the parameter's shape (dtypes are
  // converted); unknown `optim.*` names are rejected. Errors name the entry.
  virtual void load_state_dict(const std::map<std::string, Tensor>& state);

  int64_t step_count() const { return step_count_; }
  const NamedParams& params() const { return params_; }

 protected:
  // Adds a zero-initialised state tensor per parameter, saved as optim.<slot>.<name>.
  void add_slot(const std::string& slot);
  // State tensor of parameter i, converted to the parameter's dtype if the
  // module changed it (Module::to) since construction.
  Tensor& slot(const std::string& slot, size_t i);
  // Marks one step() call; returns the parameters that have a gradient.
  std::vector<size_t> begin_step(const char* op);

  NamedParams params_;
  std::vector<int64_t> param_steps_;  // updates received by each parameter
  int64_t step_count_ = 0;

 private:
  std::map<std::string, std::vector<Tensor>> slots_;
};

// Decoupled weight decay rule: only parameters whose name ends in "weight"
// and that have >= 2 dims (the matrices of linear/embedding layers) decay;
// biases, norm scales and other vectors do not.
bool applies_weight_decay(const std::string& name, const Tensor& p);

// The checks AdamW and RAdam make of their hyperparameters (betas in [0, 1),
// eps and weight_decay >= 0); errors name `optimizer`.
void check_adam_hyperparameters(const char* optimizer, std::array<double, 2> betas, double eps, double weight_decay);

// AdamW (Loshchilov & Hutter), per element, t = updates this parameter received:
//   p -= lr * wd * p                          (decoupled decay, see applies_weight_decay)
//   m  = b1 m + (1 - b1) g
//   v  = b2 v + (1 - b2) g^2
//   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
// State slots: exp_avg (m), exp_avg_sq (v).
class AdamW : public Optimizer {
 public:
  AdamW(const NamedParams& params, std::array<double, 2> betas = {0.9, 0.999}, double eps = 1e-8,
        double weight_decay = 0.01);
  void step(double lr) override;

 private:
  double beta1_, beta2_, eps_, weight_decay_;
};

// SGD with PyTorch semantics (no dampening):
//   g   = grad + wd * p                        (L2 decay, every parameter)
//   buf = momentum * buf + g                   (first update: buf = g)
//   g'  = nesterov ? g + momentum * buf : buf  (momentum 0: g' = g, no buffer)
//   p  -= lr * g'
// State slot: momentum_buffer (only when momentum != 0).
class SGD : public Optimizer {
 public:
  SGD(const NamedParams& params, double momentum = 0.9, double weight_decay = 0.0, bool nesterov = false);
  void step(double lr) override;

 private:
  double momentum_, weight_decay_;
  bool nesterov_;
};

// Global L2 norm of all gradients, sqrt(sum_i |g_i|^2), accumulated in double.
// If max_norm > 0 and norm > max_norm, every gradient is scaled in place by
// max_norm / (norm + 1e-6). Returns the norm before clipping. A non-finite norm
// is returned as is and leaves the gradients untouched (check it, or use
// grads_finite, to skip the step). Parameters without a gradient are ignored.
double clip_grad_norm(const NamedParams& params, double max_norm);
// True when every element of every gradient is finite.
bool grads_finite(const NamedParams& params);

}  // namespace seqboat::nn
