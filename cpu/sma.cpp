// cpu/sma.cpp: CPU kernels of ops/sma.cpp: the router, the slot plan and the
// row movers of Sparse Modular Activation (formulas at the top of
// ops/sma.cpp). Compress / extract run in parallel over batch rows (each
// output row written by one thread); the router is O(B L) and runs serially.
#include <algorithm>
#include <cmath>

#include "cpu/backend.h"
#include "cpu/parallel.h"

namespace seqboat::cpu {

namespace {

using kernels::PlanShape;
using kernels::SmaRoute;

using kernels::route_source;
using kernels::RouterGrad;

template <class T>
void router_forward(const T* u, T tau, const uint8_t* pad, int64_t tokens, T* gate, uint8_t* active, T* prob) {
  for (int64_t n = 0; n < tokens; ++n) kernels::route_token(u, tau, pad, n, gate, active, prob);
}

// du (tokens, 2) and dtemp (either may be null).
template <class T>
void router_backward(const T* u, T tau, const uint8_t* active, const T* G, int64_t tokens, T* du, T* dtemp) {
  T dtemp_sum = 0;
  for (int64_t n = 0; n < tokens; ++n) {
    const RouterGrad<T> r = kernels::router_dx(u, tau, active, G, n);
    if (du) {
      du[2 * n] = r.dx0 / tau;  // term 3
      du[2 * n + 1] = r.dx1 / tau;
    }
    dtemp_sum -= r.dx0 * r.x0 + r.dx1 * r.x1;  // term 4: dx_k/dtemp = -x_k
  }
  if (dtemp) *dtemp = dtemp_sum;
}

template <class T>
void sma_router_forward(int64_t tokens, const T* u, const T* temp, const uint8_t* pad, T* gate, uint8_t* active,
                        T* prob) {
  router_forward<T>(u, std::exp(temp[0]), pad, tokens, gate, active, prob);
}

template <class T>
void sma_router_backward(int64_t tokens, const T* u, const T* temp, const uint8_t* active, const T* G, T* du,
                         T* dtemp) {
  router_backward<T>(u, std::exp(temp[0]), active, G, tokens, du, dtemp);
}

void sma_count_active(int64_t B, int64_t L, const uint8_t* a, int64_t* counts) {
  for (int64_t b = 0; b < B; ++b)
    counts[b] = std::count_if(a + b * L, a + (b + 1) * L, [](uint8_t x) { return x != 0; });
}

// S < L: row b's active tokens in order in slots 0 .. count_b - 1; otherwise
// slot s = token s, valid where active.
void sma_plan_fill(const PlanShape& plan, const uint8_t* a, int64_t* index, uint8_t* valid) {
  const int64_t B = plan.batch, L = plan.length, S = plan.slots;
  std::fill(index, index + B * S, int64_t{0});
  std::fill(valid, valid + B * S, uint8_t{0});
  for (int64_t b = 0; b < B; ++b) {
    int64_t next_slot = 0;
    for (int64_t t = 0; t < L; ++t) {
      const bool on = a[b * L + t] != 0;
      const int64_t slot = plan.compressed ? next_slot : t;
      if (plan.compressed && !on) continue;
      index[b * S + slot] = t;
      valid[b * S + slot] = on;
      ++next_slot;
    }
  }
}

template <class T>
void sma_move_rows(const PlanShape& plan, int64_t C, SmaRoute route, bool to_slots, const int64_t* index,
                   const uint8_t* valid, const T* src, T* dst) {
  const int64_t B = plan.batch, L = plan.length, S = plan.slots;
  std::fill(dst, dst + B * (to_slots ? S : L) * C, T(0));
#pragma omp parallel for schedule(static) if (B * std::max(L, S) * C > kParallelWork)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) {
      const int64_t token = route_source(plan, route, index, valid, b, s);
      if (token < 0) continue;
      const T* from = to_slots ? src + (b * L + token) * C : src + (b * S + s) * C;
      T* to = to_slots ? dst + (b * S + s) * C : dst + (b * L + token) * C;
      std::copy(from, from + C, to);
    }
}

}  // namespace

void add_sma_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.sma_router_forward = sma_router_forward<T>;
    t.sma_router_backward = sma_router_backward<T>;
    t.sma_move_rows = sma_move_rows<T>;
  });
  k.untyped.sma_count_active = sma_count_active;
  k.untyped.sma_plan_fill = sma_plan_fill;
}

}  // namespace seqboat::cpu
