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

using kernels::route_source;
using kernels::router_dx;
using kernels::RouterGrad;

template <class Exec, class T>
void sma_router_forward(Exec& ex, int64_t tokens, const T* u, const T* temp, const uint8_t* pad, T* gate,
                        uint8_t* active, T* prob) {
  ex.for_each(tokens, [=] SEQBOAT_HOST_DEVICE(int64_t n) {
    kernels::route_token(u, math_exp(temp[0]), pad, n, gate, active, prob);
  });
}

template <class Exec, class T>
void sma_router_backward(Exec& ex, int64_t tokens, const T* u, const T* temp, const uint8_t* active, const T* G, T* du,
                         T* dtemp) {
  if (du)
    ex.for_each(tokens, [=] SEQBOAT_HOST_DEVICE(int64_t n) {  // term 3: du_k = dx_k / tau
      const T tau = math_exp(temp[0]);
      const RouterGrad<T> r = router_dx(u, tau, active, G, n);
      du[2 * n] = r.dx0 / tau;
      du[2 * n + 1] = r.dx1 / tau;
    });
  if (dtemp)
    ex.template reduce_rows<T>(  // term 4: dtemp = -sum over tokens of dx_k x_k
        1, tokens,
        [=] SEQBOAT_HOST_DEVICE(int64_t, int64_t n) {
          const RouterGrad<T> r = router_dx(u, math_exp(temp[0]), active, G, n);
          return -(r.dx0 * r.x0 + r.dx1 * r.x1);
        },
        [=] SEQBOAT_HOST_DEVICE(int64_t, T sum) { dtemp[0] = sum; });
}

template <class Exec>
void sma_count_active(Exec& ex, int64_t B, int64_t L, const uint8_t* a, int64_t* counts) {
  ex.template reduce_rows<int64_t>(
      B, L, [=] SEQBOAT_HOST_DEVICE(int64_t b, int64_t t) -> int64_t { return a[b * L + t] != 0; },
      [=] SEQBOAT_HOST_DEVICE(int64_t b, int64_t total) { counts[b] = total; });
}

template <class Exec>
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
template <class Exec>
void add_sma_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.sma_router_forward = &Bound<&sma_router_forward<Exec, T>>::call;
    t.sma_router_backward = &Bound<&sma_router_backward<Exec, T>>::call;
    t.sma_move_rows = &Bound<&sma_move_rows<Exec, T>>::call;
  });
  k.untyped.sma_count_active = &Bound<&sma_count_active<Exec>>::call;
  k.untyped.sma_plan_fill = &Bound<&sma_plan_fill<Exec>>::call;
}

}  // namespace seqboat::cuda::impl
