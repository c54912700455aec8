// kernels/sma.h: kernels of ops/sma.cpp, Sparse Modular Activation: the
// router, the slot plan and the row movers (formulas in ops/sma.cpp).
#pragma once

#include "kernels/common.h"
#include "kernels/math.h"

namespace seqboat::kernels {

// Per token n < tokens of u (tokens, 2), with tau = exp(temp[0]):
// gate, active, prob (pad may be null).
template <class T>
using SmaRouterFn = void(int64_t tokens, const T* u, const T* temp, const uint8_t* pad, T* gate, uint8_t* active,
                         T* prob);
// du (tokens, 2) and dtemp (1) from G = d gate; either may be null.
template <class T>
using SmaRouterBackwardFn = void(int64_t tokens, const T* u, const T* temp, const uint8_t* active, const T* G, T* du,
                                 T* dtemp);

// ---- The per-token formulas both backends run (terms as numbered at the top
// of ops/sma.cpp; callable on the host and on the GPU) ----

// P0, P1 = softmax(x0, x1), the two route probabilities of one token.
template <class T>
struct RouteProbs {
  T p0, p1;
};
template <class T>
SEQBOAT_HOST_DEVICE inline RouteProbs<T> route_probs(T x0, T x1) {
  const T m = math_max(x0, x1);
  const T e0 = math_exp(x0 - m), e1 = math_exp(x1 - m);
  return {e0 / (e0 + e1), e1 / (e0 + e1)};
}

// The router's forward of token n: active = P1 > P0 and not padding,
// gate = P1 where active (else 0), prob = max(P0, P1).
template <class T>
SEQBOAT_HOST_DEVICE inline void route_token(const T* u, T tau, const uint8_t* pad, int64_t n, T* gate,
                                            uint8_t* active, T* prob) {
  const RouteProbs<T> P = route_probs(u[2 * n] / tau, u[2 * n + 1] / tau);
  active[n] = P.p1 > P.p0 && !(pad && pad[n]);
  gate[n] = active[n] ? P.p1 : T(0);
  prob[n] = math_max(P.p0, P.p1);
}

// x_k = u_k / tau of token n and dx_k (0 unless active): terms 1 and 2.
template <class T>
struct RouterGrad {
  T x0, x1, dx0, dx1;
};
template <class T>
SEQBOAT_HOST_DEVICE inline RouterGrad<T> router_dx(const T* u, T tau, const uint8_t* active, const T* G, int64_t n) {
  RouterGrad<T> r{u[2 * n] / tau, u[2 * n + 1] / tau, T(0), T(0)};
  if (active[n]) {
    const RouteProbs<T> P = route_probs(r.x0, r.x1);
    r.dx1 = G[n] * P.p1 * P.p0;   // term 1: dP1/dx_1 = P1 P0
    r.dx0 = -G[n] * P.p1 * P.p0;  // term 2: dP1/dx_0 = -P1 P0
  }
  return r;
}

struct PlanShape {
  int64_t batch = 0, length = 0, slots = 0;
  bool compressed = false;
};
// counts[b] = number of active tokens of row b of active (B, L).
using SmaCountActiveFn = void(int64_t B, int64_t L, const uint8_t* active, int64_t* counts);
// slot_index, slot_valid (B, S) of the plan (zeroed by the kernel).
using SmaPlanFillFn = void(const PlanShape& plan, const uint8_t* active, int64_t* slot_index, uint8_t* slot_valid);

// Which token feeds slot s of row b: Compress (slot_index where compressed
// and valid, s when not compressed, none at unused slots) or Extract (slot
// index at valid slots, none elsewhere).
enum class SmaRoute { Compress, Extract };
// The token feeding slot s of row b under `route`, or -1.
SEQBOAT_HOST_DEVICE inline int64_t route_source(const PlanShape& plan, SmaRoute route, const int64_t* slot_index,
                                                const uint8_t* slot_valid, int64_t b, int64_t s) {
  const int64_t bs = b * plan.slots + s;
  if (route == SmaRoute::Compress && !plan.compressed) return s;
  return slot_valid[bs] ? slot_index[bs] : -1;
}
// Copies rows of C between the token layout (B, L, C) and the slot layout
// (B, S, C): to_slots copies token -> slot, else slot -> token. dst is zeroed
// first, so rows nothing is copied to stay 0.
template <class T>
using SmaMoveRowsFn = void(const PlanShape& plan, int64_t C, SmaRoute route, bool to_slots, const int64_t* slot_index,
                           const uint8_t* slot_valid, const T* src, T* dst);

}  // namespace seqboat::kernels

// The kernel table's rows of this family (kernels/table.h): K a typed
// kernel (a slot per element type), U an untyped one.
#define SEQBOAT_KERNELS_sma(K, U)                   \
  K(sma, sma_router_forward, SmaRouterFn)           \
  K(sma, sma_router_backward, SmaRouterBackwardFn)  \
  U(sma, sma_count_active, SmaCountActiveFn)        \
  U(sma, sma_plan_fill, SmaPlanFillFn)              \
  K(sma, sma_move_rows, SmaMoveRowsFn)
