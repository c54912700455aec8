// nn/schedule.h: learning-rate schedules: linear warmup, then constant, linear
// or cosine decay to a floor. `lr = schedule.at(step)` before each optimizer step.
#pragma once

#include <cstdint>
#include <string>

namespace seqboat::nn {

// step is 0-based. With W = warmup_steps, T = total_steps, lo = min_lr_ratio * lr:
//   step < W:  lr * (step + 1) / W               (lr / W at step 0, lr at step W - 1)
//   then, with p = clamp((step - W) / (T - W), 0, 1):
//     Constant: lr
//     Linear:   lo + (lr - lo) * (1 - p)
//     Cosine:   lo + (lr - lo) * (1 + cos(pi * p)) / 2
// so the decays reach lo at step T and stay there. Decays need T > W.
struct LrSchedule {
  enum Decay { Constant, Linear, Cosine };
  double lr = 0.0;
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;
  Decay decay = Constant;
  double min_lr_ratio = 0.0;

  double at(int64_t step) const;
};

// "constant", "linear" or "cosine"; anything else throws, listing these.
LrSchedule::Decay parse_decay(const std::string& name);
const char* decay_name(LrSchedule::Decay decay);

}  // namespace seqboat::nn
