// nn/schedule.cpp: learning-rate warmup and decay (formulas in schedule.h).
#include "nn/schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tensor/safe_text.h"
#include "tensor/tensor.h"

namespace seqboat::nn {

namespace {

void check(const LrSchedule& s, int64_t step) {
  if (step < 0) fail(fmt::format("LrSchedule::at: step must be >= 0, got {}", step));
  if (s.warmup_steps < 0) fail(fmt::format("LrSchedule: warmup_steps must be >= 0, got {}", s.warmup_steps));
  if (!(s.min_lr_ratio >= 0 && s.min_lr_ratio <= 1))
    fail(fmt::format("LrSchedule: min_lr_ratio must lie in [0, 1], got {}", s.min_lr_ratio));
  if (s.decay != LrSchedule::Constant && s.total_steps <= s.warmup_steps)
    fail(fmt::format("LrSchedule: {} decay needs total_steps ({}) > warmup_steps ({})", decay_name(s.decay),
                     s.total_steps, s.warmup_steps));
}

}  // namespace

double LrSchedule::at(int64_t step) const {
  check(*this, step);
  if (step < warmup_steps) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  if (decay == Constant) return lr;
  const double progress =
      std::clamp(static_cast<double>(step - warmup_steps) / static_cast<double>(total_steps - warmup_steps), 0.0, 1.0);
  const double lo = min_lr_ratio * lr;
  const double fraction = decay == Linear ? 1.0 - progress : 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return lo + (lr - lo) * fraction;
}

LrSchedule::Decay parse_decay(const std::string& name) {
  if (name == "constant") return LrSchedule::Constant;
  if (name == "linear") return LrSchedule::Linear;
  if (name == "cosine") return LrSchedule::Cosine;
  fail(fmt::format("unknown learning-rate decay {} (valid: constant, linear, cosine)", quote_text(name)));
}

const char* decay_name(LrSchedule::Decay decay) {
  switch (decay) {
    case LrSchedule::Constant: return "constant";
    case LrSchedule::Linear: return "linear";
    case LrSchedule::Cosine: return "cosine";
  }
  return "unknown";
}

}  // namespace seqboat::nn
