// nn/radam.h: RAdam (Liu et al. 2020, "On the Variance of the Adaptive
// Learning Rate and Beyond"), the optimizer of the official enwik8 script.
// Per element, t = updates this parameter received:
//   p -= lr * wd * p                        (decoupled decay, applies_weight_decay)
//   m  = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  m^ = m / (1 - b1^t)
//   rho_inf = 2 / (1 - b2) - 1,  rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
//   rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
//               p -= lr * r * m^ / (sqrt(v / (1 - b2^t)) + eps)
//   otherwise:  p -= lr * m^                (the variance is not yet trusted)
// State slots: exp_avg (m), exp_avg_sq (v), as AdamW's.
#pragma once

#include "nn/optim.h"

namespace seqboat::nn {

class RAdam : public Optimizer {
 public:
  RAdam(const NamedParams& params, std::array<double, 2> betas = {0.9, 0.999}, double eps = 1e-8,
        double weight_decay = 0.0);
  void step(double lr) override;
  // r_t, or 0 when step t is not rectified (rho_t <= 5).
  static double rectification(double beta2, int64_t t);

 private:
  double beta1_, beta2_, eps_, weight_decay_;
};

}  // namespace seqboat::nn
