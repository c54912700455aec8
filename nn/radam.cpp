// nn/radam.cpp: RAdam (formulas in radam.h). A rectified step is AdamW's
// update with the rate lr * r (the adamw_update op); an unrectified one is
// composed from elementwise ops and copied into the state in place.
#include "nn/radam.h"

#include <fmt/format.h>

#include <cmath>

#include "autograd/autograd.h"
#include "ops/elementwise.h"
#include "ops/optim.h"

namespace seqboat::nn {

RAdam::RAdam(const NamedParams& params, std::array<double, 2> betas, double eps, double weight_decay)
    : Optimizer(params), beta1_(betas[0]), beta2_(betas[1]), eps_(eps), weight_decay_(weight_decay) {
  check_adam_hyperparameters("RAdam", betas, eps, weight_decay);
  add_slot("exp_avg");
  add_slot("exp_avg_sq");
}

double RAdam::rectification(double b2, int64_t t) {
  const double rho_inf = 2 / (1 - b2) - 1;
  const double b2t = std::pow(b2, static_cast<double>(t));
  const double rho = rho_inf - 2 * static_cast<double>(t) * b2t / (1 - b2t);
  if (!(rho > 5)) return 0;
  return std::sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho));
}

void RAdam::step(double lr) {
  NoGradGuard no_grad;
  for (size_t i : begin_step("RAdam")) {
    const auto& [name, p] = params_[i];
    Tensor g = p->grad().contiguous();
    if (g.shape() != p->shape() || g.dtype() != p->dtype() || g.device() != p->device())
      fail(fmt::format("RAdam: the gradient of '{}' does not match the parameter", name));
    const int64_t t = ++param_steps_[i];
    const double decay = applies_weight_decay(name, *p) ? lr * weight_decay_ : 0.0;
    const double bias1 = 1 - std::pow(beta1_, static_cast<double>(t)), bias2 = 1 - std::pow(beta2_, static_cast<double>(t));
    const double r = rectification(beta2_, t);
    Tensor& m = slot("exp_avg", i);
    Tensor& v = slot("exp_avg_sq", i);
    if (r > 0) {
      adamw_update(*p, g, m, v, AdamScalars{lr * r, decay, beta1_, beta2_, eps_, bias1, bias2});
      continue;
    }
    Tensor m2 = add(mul_scalar(m, beta1_), mul_scalar(g, 1 - beta1_));
    Tensor v2 = add(mul_scalar(v, beta2_), mul_scalar(square(g), 1 - beta2_));
    Tensor p2 = sub(mul_scalar(*p, 1 - decay), mul_scalar(m2, lr / bias1));
    copy_contiguous_bytes(m, m2);
    copy_contiguous_bytes(v, v2);
    copy_contiguous_bytes(*p, p2);
  }
}

}  // namespace seqboat::nn
