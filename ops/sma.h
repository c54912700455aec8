// ops/sma.h: Sparse Modular Activation (docs/semantics.md section 3, steps 4, 5
// and 8): the router that decides which tokens run the attention unit, the plan
// that packs the active tokens into slots, and the two data movers between the
// token sequence (B, L, C) and the slot sequence (B, S, C). Formulas and
// backward terms in ops/sma.cpp.
//
//   sma_router(u (B, L, 2), temp (1), padding_mask) -> {gate, active, prob}
//       tau = exp(temp), P = softmax(u / tau) over the 2 options
//       active = P1 > P0 and not padding      (UInt8; a tie P1 == P0 is inactive)
//       gate   = P1 where active, else 0      (differentiable wrt u and temp)
//       prob   = max(P0, P1)                  (no gradient; the route.*.prob output)
//       The argmax decision `active` is piecewise constant: it gets no
//       gradient, exactly as in the reference (gradient flows only through P1
//       at active tokens).
//   sma_plan(active (B, L), batch_max) -> SmaPlan
//       S = max active count over rows (of the whole batch: when these rows
//       are a data-parallel rank's share, batch_max(S) returns the maximum
//       over every rank's rows, and the plan is the one the whole batch has). S < L: compressed, row b's active tokens
//       in order in slots 0 .. count_b - 1, later slots unused. Otherwise (some
//       row fully active, or L = 0): not compressed, S = L, slot s = token s.
//   sma_compress(x (B, L, C), plan) -> (B, S, C)
//       compressed: slot s holds x at its token, zeros at unused slots;
//       not compressed: a copy of x (inactive tokens included: they are masked
//       as keys by the attention, not removed).
//   sma_extract(y (B, S, C), plan) -> (B, L, C)
//       each valid slot's row goes back to its token; zeros elsewhere (in
//       particular at inactive tokens, compressed or not).
//
// Typical use (one SeqBoat layer):
//   RouterOutput r = sma_router(u, q_router.temp, pad);
//   SmaPlan plan = sma_plan(r.active);
//   Tensor c = sma_compress(mx, plan);                      // (B, S, D)
//   ... attention over slots, key_mask = 1 - plan.slot_valid,
//       positions = plan.slot_index ...
//   Tensor h = sma_extract(h_slots, plan) * r.gate.unsqueeze(-1);
#pragma once

#include <cstdint>
#include <functional>

#include "tensor/tensor.h"

namespace seqboat {

struct RouterOutput {
  Tensor gate;    // (B, L), u's dtype, differentiable
  Tensor active;  // (B, L) UInt8
  Tensor prob;    // (B, L), u's dtype, no grad
};

// u: (B, L, 2) float; temp: (1) with u's dtype; padding_mask: (B, L) UInt8
// (1 at padding) or undefined.
RouterOutput sma_router(const Tensor& u, const Tensor& temp, const Tensor& padding_mask);

struct SmaPlan {
  int64_t batch = 0, length = 0, slots = 0;
  bool compressed = false;
  Tensor slot_index;  // (B, S) Int64: original position of each slot, 0 for unused slots
  Tensor slot_valid;  // (B, S) UInt8: 1 where the slot holds an active token
};

// active: (B, L) UInt8. batch_max: unset, or (data-parallel training) the
// maximum of a value over the ranks (a collective every rank calls alike).
SmaPlan sma_plan(const Tensor& active, const std::function<int64_t(int64_t)>& batch_max = {});

// x: (B, L, C) float -> (B, S, C).
Tensor sma_compress(const Tensor& x, const SmaPlan& plan);

// y: (B, S, C) float -> (B, L, C).
Tensor sma_extract(const Tensor& y, const SmaPlan& plan);

}  // namespace seqboat
