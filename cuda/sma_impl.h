// cuda/sma_impl.h: CUDA kernels of ops/sma.cpp (kernels/sma.h), Sparse
// Modular Activation, over an executor (cuda/exec.h). Formulas at the top of
// ops/sma.cpp. The router is one work item per token (dtemp: the token terms
// summed by ex.reduce_rows); the plan is a prefix count of each row's
// active tokens (ex.scan_rows); the movers are one item per element.
#pragma once

#include "cuda/exec.h"
#include "kernels/sma.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::PlanShape;
using kernels::SmaRoute;

// P0, P1 = softmax(x0, x1).
template <class T>
SEQBOAT_HOST_DEVICE inline void route_probs(T x0, T x1, T& p0, T& p1) {
  const T m = math_max(x0, x1);
  const T e0 = math_exp(x0 - m), e1 = math_exp(x1 - m);
  p0 = e0 / (e0 + e1);
  p1 = e1 / (e0 + e1);
}

template <class Exec, class T>
void sma_router_forward(Exec& ex, int64_t tokens, const T* u, const T* temp, const uint8_t* pad, T* gate,
                        uint8_t* active, T* prob) {
  ex.for_each(tokens, [=] SEQBOAT_HOST_DEVICE(int64_t n) {
    const T tau = math_exp(temp[0]);
    T p0, p1;
    route_probs(u[2 * n] / tau, u[2 * n + 1] / tau, p0, p1);
    active[n] = p1 > p0 && !(pad && pad[n]);
    gate[n] = active[n] ? p1 : T(0);
    prob[n] = math_max(p0, p1);
  });
}

// dx_k of token n (0 unless active): dx1 = G P1 P0 (term 1), dx0 = -G P1 P0 (term 2).
template <class T>
SEQBOAT_HOST_DEVICE inline void router_dx(const T* u, T tau, const uint8_t* active, const T* G, int64_t n, T& x0, T& x1,
                                          T& dx0, T& dx1) {
  x0 = u[2 * n] / tau;
  x1 = u[2 * n + 1] / tau;
  dx0 = dx1 = 0;
  if (active[n]) {
    T p0, p1;
    route_probs(x0, x1, p0, p1);
    dx1 = G[n] * p1 * p0;
    dx0 = -G[n] * p1 * p0;
  }
}

template <class Exec, class T>
void sma_router_backward(Exec& ex, int64_t tokens, const T* u, const T* temp, const uint8_t* active, const T* G, T* du,
                         T* dtemp) {
  if (du)
    ex.for_each(tokens, [=] SEQBOAT_HOST_DEVICE(int64_t n) {  // term 3: du_k = dx_k / tau
      const T tau = math_exp(temp[0]);
      T x0, x1, dx0, dx1;
      router_dx(u, tau, active, G, n, x0, x1, dx0, dx1);
      du[2 * n] = dx0 / tau;
      du[2 * n + 1] = dx1 / tau;
    });
  if (dtemp)
    ex.template reduce_rows<T>(  // term 4: dtemp = -sum over tokens of dx_k x_k
        1, tokens,
        [=] SEQBOAT_HOST_DEVICE(int64_t, int64_t n) {
          const T tau = math_exp(temp[0]);
          T x0, x1, dx0, dx1;
          router_dx(u, tau, active, G, n, x0, x1, dx0, dx1);
          return -(dx0 * x0 + dx1 * x1);
        },
        [=] SEQBOAT_HOST_DEVICE(int64_t, T sum) { dtemp[0] = sum; });
}

template <class Exec, class T>
void sma_count_active(Exec& ex, int64_t B, int64_t L, const uint8_t* a, int64_t* counts) {
  ex.template reduce_rows<int64_t>(
      B, L, [=] SEQBOAT_HOST_DEVICE(int64_t b, int64_t t) -> int64_t { return a[b * L + t] != 0; },
      [=] SEQBOAT_HOST_DEVICE(int64_t b, int64_t total) { counts[b] = total; });
}

template <class Exec, class T>
void sma_plan_fill(Exec& ex, const PlanShape& plan, const uint8_t* a, int64_t* index, uint8_t* valid) {
  const int64_t L = plan.length, S = plan.slots;
  const bool compressed = plan.compressed;
  ex.for_each(plan.batch * S, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    index[e] = 0;
    valid[e] = 0;
  });
  // Compressed, active token t goes to slot = the number of active tokens
  // before it (a prefix count); uncompressed, token t stays in slot t.
  ex.scan_rows(
      plan.batch, L, [=] SEQBOAT_HOST_DEVICE(int64_t b, int64_t t) -> int64_t { return a[b * L + t] != 0; },
      [=] SEQBOAT_HOST_DEVICE(int64_t b, int64_t t, int64_t active_before) {
        const bool on = a[b * L + t] != 0;
        if (compressed && !on) return;
        const int64_t slot = compressed ? active_before : t;
        index[b * S + slot] = t;
        valid[b * S + slot] = on;
      });
}

// The token feeding slot s of row b, or -1 (see SmaRoute).
SEQBOAT_HOST_DEVICE inline int64_t route_source(const PlanShape& plan, SmaRoute route, const int64_t* index,
                                                const uint8_t* valid, int64_t b, int64_t s) {
  const int64_t bs = b * plan.slots + s;
  if (route == SmaRoute::Compress && !plan.compressed) return s;
  return valid[bs] ? index[bs] : -1;
}

// The destination layout is zeroed, then each slot's row is copied (one item
// per element of the slot layout: every destination is written at most once).
template <class Exec, class T>
void sma_move_rows(Exec& ex, const PlanShape& plan, int64_t C, SmaRoute route, bool to_slots, const int64_t* index,
                   const uint8_t* valid, const T* src, T* dst) {
  const int64_t B = plan.batch, L = plan.length, S = plan.slots;
  ex.for_each(B * (to_slots ? S : L) * C, [=] SEQBOAT_HOST_DEVICE(int64_t e) { dst[e] = T(0); });
  ex.for_each(B * S * C, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t c = e % C, bs = e / C, b = bs / S, s = bs % S;
    const int64_t token = route_source(plan, route, index, valid, b, s);
    if (token < 0) return;
    if (to_slots) dst[(b * S + s) * C + c] = src[(b * L + token) * C + c];
    else dst[(b * L + token) * C + c] = src[(b * S + s) * C + c];
  });
}

// The sma kernels of executor Exec, for the kernel table.
template <class Exec, class T>
void fill_sma_kernels(kernels::TypedKernels<T>& k) {
  k.sma_router_forward = &Bound<&sma_router_forward<Exec, T>>::call;
  k.sma_router_backward = &Bound<&sma_router_backward<Exec, T>>::call;
  k.sma_move_rows = &Bound<&sma_move_rows<Exec, T>>::call;
}

template <class Exec>
void add_sma_kernels(kernels::BackendKernels& k) {
  fill_sma_kernels<Exec>(k.f32);
  fill_sma_kernels<Exec>(k.f64);
  k.u8.sma_count_active = &Bound<&sma_count_active<Exec, uint8_t>>::call;
  k.u8.sma_plan_fill = &Bound<&sma_plan_fill<Exec, uint8_t>>::call;
}

}  // namespace seqboat::cuda::impl
