// ops/sma.cpp: Sparse Modular Activation ops (ops/sma.h), CPU only.
//
// ==== sma_router(u, temp, pad) -> {gate, active, prob} ====
// forward, per token (b, t):
//   x_k = u_k / tau,  tau = exp(temp),  k = 0, 1
//   P_k = exp(x_k - m) / (exp(x_0 - m) + exp(x_1 - m)),  m = max(x_0, x_1)
//   active = P1 > P0 and pad == 0;  gate = active ? P1 : 0;  prob = max(P0, P1)
// backward, G = dgate (only active tokens carry one; the argmax gets none):
//   dx_1 =  G P1 P0        term 1: softmax Jacobian dP1/dx_1 = P1 (1 - P1) = P1 P0
//   dx_0 = -G P1 P0        term 2: softmax Jacobian dP1/dx_0 = -P1 P0
//   du_k = dx_k / tau      term 3: x_k = u_k / tau is linear in u_k
//   dtemp = -sum over tokens and k of dx_k x_k
//                          term 4: dx_k/dtemp = -u_k exp(-temp) = -x_k
//                          (summed serially in token order)
//
// ==== sma_plan(active) ====
// count_b = number of active tokens of row b, S = max_b count_b.
// S < L: slot_index[b, s] = position of the s-th active token of row b
//        (s < count_b), slot_valid = 1 there; 0 / 0 at unused slots.
// else:  S = L, slot_index[b, s] = s, slot_valid = active.
//
// ==== sma_compress(x, plan) -> (B, S, C) ====
// source(b, s) = slot_index[b, s] where compressed and slot_valid, or s when
// not compressed; none at unused slots.
//   forward:  out[b, s] = x[b, source(b, s)]   (0 at unused slots)
//   backward: dx[b, source(b, s)] = G[b, s]    (each token is the source of at
//             most one slot, so this is a plain scatter; 0 at other tokens)
//
// ==== sma_extract(y, plan) -> (B, L, C) ====
//   forward:  out[b, slot_index[b, s]] = y[b, s] for valid slots, 0 elsewhere
//   backward: dy[b, s] = G[b, slot_index[b, s]] for valid slots, 0 elsewhere
//
// Threads: compress / extract run in parallel over batch rows (each output
// row written by one thread); the router is O(B L) and runs serially.
#include "ops/sma.h"

#include <algorithm>
#include <cmath>

#include "autograd/autograd.h"
#include "ops/kernel_util.h"

namespace seqboat {

namespace {

// ---------------------------------------------------------------- router

// Both softmax probabilities of one token.
template <class T>
struct RouteProbs {
  T p0, p1;
};

template <class T>
RouteProbs<T> route_probs(T x0, T x1) {
  const T m = std::max(x0, x1);
  const T e0 = std::exp(x0 - m), e1 = std::exp(x1 - m);
  return {e0 / (e0 + e1), e1 / (e0 + e1)};
}

struct RouterSaved {
  Tensor u;       // (B, L, 2) contiguous, detached
  Tensor active;  // (B, L) UInt8
  Tensor temp;    // (1) detached
};

template <class T>
void router_forward(const T* u, T tau, const uint8_t* pad, int64_t tokens, T* gate, uint8_t* active, T* prob) {
  for (int64_t n = 0; n < tokens; ++n) {
    const RouteProbs<T> P = route_probs(u[2 * n] / tau, u[2 * n + 1] / tau);
    active[n] = P.p1 > P.p0 && !(pad && pad[n]);
    gate[n] = active[n] ? P.p1 : T(0);
    prob[n] = std::max(P.p0, P.p1);
  }
}

// du (tokens, 2) and dtemp (either may be null).
template <class T>
void router_backward(const T* u, T tau, const uint8_t* active, const T* G, int64_t tokens, T* du, T* dtemp) {
  T dtemp_sum = 0;
  for (int64_t n = 0; n < tokens; ++n) {
    const T x0 = u[2 * n] / tau, x1 = u[2 * n + 1] / tau;
    T dx0 = 0, dx1 = 0;
    if (active[n]) {
      const RouteProbs<T> P = route_probs(x0, x1);
      dx1 = G[n] * P.p1 * P.p0;   // term 1: dP1/dx_1 = P1 P0
      dx0 = -G[n] * P.p1 * P.p0;  // term 2: dP1/dx_0 = -P1 P0
    }
    if (du) {
      du[2 * n] = dx0 / tau;  // term 3
      du[2 * n + 1] = dx1 / tau;
    }
    dtemp_sum -= dx0 * x0 + dx1 * x1;  // term 4: dx_k/dtemp = -x_k
  }
  if (dtemp) *dtemp = dtemp_sum;
}

// ---------------------------------------------------------------- plan movers

void check_plan(const char* op, const SmaPlan& plan) {
  if (!plan.slot_index.defined() || !plan.slot_valid.defined() || plan.slot_index.shape() != Shape{plan.batch, plan.slots} ||
      plan.slot_valid.shape() != Shape{plan.batch, plan.slots})
    fail(fmt::format("{}: malformed plan (batch {}, length {}, slots {}): slot_index and slot_valid must be (B, S)", op,
                     plan.batch, plan.length, plan.slots));
}

// x must be (plan.batch, rows, C).
void check_rows(const char* op, const char* arg, const Tensor& x, const SmaPlan& plan, int64_t rows,
                const char* rows_name) {
  check_float(op, arg, x);
  if (x.dim() != 3 || x.size(0) != plan.batch || x.size(1) != rows)
    fail(fmt::format("{}: {} must be (B, {}, C) = ({}, {}, C) for the plan (length {}, slots {}), got {}", op, arg,
                     rows_name, plan.batch, rows, plan.length, plan.slots, shape_str(x.shape())));
}

// Token feeding slot s of row b in sma_compress, or -1 for an unused slot.
int64_t compress_source(const SmaPlan& plan, const int64_t* index, const uint8_t* valid, int64_t b, int64_t s) {
  const int64_t bs = b * plan.slots + s;
  if (!plan.compressed) return s;
  return valid[bs] ? index[bs] : -1;
}

// Copies rows between the token layout (B, L, C) and the slot layout (B, S, C):
// for every (b, s) with token = route(b, s) >= 0, to_slots copies token -> slot
// and otherwise slot -> token. Rows not written stay zero (dst starts zeroed).
template <class T, class Route>
void move_rows(const SmaPlan& plan, int64_t C, const T* src, T* dst, bool to_slots, Route route) {
  const int64_t B = plan.batch, L = plan.length, S = plan.slots;
  std::fill(dst, dst + B * (to_slots ? S : L) * C, T(0));
#pragma omp parallel for schedule(static) if (B * std::max(L, S) * C > kParallelWork)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) {
      const int64_t token = route(b, s);
      if (token < 0) continue;
      const T* from = to_slots ? src + (b * L + token) * C : src + (b * S + s) * C;
      T* to = to_slots ? dst + (b * S + s) * C : dst + (b * L + token) * C;
      std::copy(from, from + C, to);
    }
}

// Runs move_rows for x's dtype and returns the new (B, rows_out, C) tensor.
template <class Route>
Tensor moved(const char* op, const SmaPlan& plan, const Tensor& x, bool to_slots, Route route) {
  Tensor xc = x.contiguous();
  const int64_t C = x.size(2);
  Tensor out = empty({plan.batch, to_slots ? plan.slots : plan.length, C}, x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    move_rows<T>(plan, C, xc.data<T>(), out.data<T>(), to_slots, route);
    return 0;
  });
  return out;
}

// Routes of the plan: slot -> token for compress (forward) and extract.
struct PlanRoutes {
  SmaPlan plan;
  Tensor index, valid;  // contiguous views of the plan's tensors

  explicit PlanRoutes(const SmaPlan& p) : plan(p), index(p.slot_index.contiguous()), valid(p.slot_valid.contiguous()) {}
  auto compress() const {
    const int64_t* idx = index.data<int64_t>();
    const uint8_t* ok = valid.data<uint8_t>();
    const SmaPlan* pl = &plan;
    return [pl, idx, ok](int64_t b, int64_t s) { return compress_source(*pl, idx, ok, b, s); };
  }
  auto extract() const {
    const int64_t* idx = index.data<int64_t>();
    const uint8_t* ok = valid.data<uint8_t>();
    const int64_t S = plan.slots;
    return [idx, ok, S](int64_t b, int64_t s) { return ok[b * S + s] ? idx[b * S + s] : int64_t{-1}; };
  }
};

}  // namespace

RouterOutput sma_router(const Tensor& u, const Tensor& temp, const Tensor& padding_mask) {
  const char* op = "sma_router";
  check_float(op, "u", u);
  check_float(op, "temp", temp);
  check_same_dtype(op, u, temp);
  if (u.dim() != 3 || u.size(2) != 2)
    fail(fmt::format("{}: u must be (B, L, 2) (two routing options), got {}", op, shape_str(u.shape())));
  if (temp.numel() != 1) fail(fmt::format("{}: temp must hold one value, got shape {}", op, shape_str(temp.shape())));
  const int64_t B = u.size(0), L = u.size(1);
  if (padding_mask.defined()) {
    check_cpu(op, padding_mask);
    check_dtype(op, "padding_mask", padding_mask, DType::UInt8);
    if (padding_mask.shape() != Shape{B, L})
      fail(fmt::format("{}: padding_mask must be (B, L) = [{}, {}] for u {}, got {}", op, B, L, shape_str(u.shape()),
                       shape_str(padding_mask.shape())));
  }
  auto saved = std::make_shared<RouterSaved>();
  saved->u = u.detach().contiguous();
  saved->temp = temp.detach();
  Tensor pad = padding_mask.defined() ? padding_mask.contiguous() : Tensor();
  RouterOutput r;
  r.gate = empty({B, L}, u.dtype());
  r.active = empty({B, L}, DType::UInt8);
  r.prob = empty({B, L}, u.dtype());
  dispatch_float(u.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T tau = std::exp(T(temp.item()));
    router_forward<T>(saved->u.data<T>(), tau, pad.defined() ? pad.data<uint8_t>() : nullptr, B * L,
                      r.gate.data<T>(), r.active.data<uint8_t>(), r.prob.data<T>());
    return 0;
  });
  saved->active = r.active;
  if (!any_requires_grad({&u, &temp})) return r;
  const Shape temp_shape = temp.shape();
  r.gate = record(op, r.gate, {u, temp}, [saved, temp_shape](const Tensor& g, const std::vector<bool>& need) {
    Tensor G = g.contiguous();
    std::vector<Tensor> grads(2);
    if (need[0]) grads[0] = empty(saved->u.shape(), G.dtype());
    if (need[1]) grads[1] = empty(temp_shape, G.dtype());
    dispatch_float(G.dtype(), "sma_router_backward", [&](auto tag) {
      using T = decltype(tag);
      const T tau = std::exp(T(saved->temp.item()));
      router_backward<T>(saved->u.data<T>(), tau, saved->active.data<uint8_t>(), G.data<T>(), G.numel(),
                         need[0] ? grads[0].data<T>() : nullptr, need[1] ? grads[1].data<T>() : nullptr);
      return 0;
    });
    return grads;
  });
  return r;
}

SmaPlan sma_plan(const Tensor& active) {
  const char* op = "sma_plan";
  check_defined(op, "active", active);
  check_cpu(op, active);
  check_dtype(op, "active", active, DType::UInt8);
  check_dim(op, "active", active, 2);
  const int64_t B = active.size(0), L = active.size(1);
  Tensor act = active.contiguous();
  const uint8_t* a = act.data<uint8_t>();
  int64_t S = 0;
  for (int64_t b = 0; b < B; ++b)
    S = std::max<int64_t>(S, std::count_if(a + b * L, a + (b + 1) * L, [](uint8_t x) { return x != 0; }));
  SmaPlan plan;
  plan.batch = B;
  plan.length = L;
  plan.compressed = S < L;
  plan.slots = plan.compressed ? S : L;
  plan.slot_index = zeros({B, plan.slots}, DType::Int64);
  plan.slot_valid = zeros({B, plan.slots}, DType::UInt8);
  int64_t* index = plan.slot_index.data<int64_t>();
  uint8_t* valid = plan.slot_valid.data<uint8_t>();
  for (int64_t b = 0; b < B; ++b) {
    int64_t next_slot = 0;
    for (int64_t t = 0; t < L; ++t) {
      const bool on = a[b * L + t] != 0;
      const int64_t slot = plan.compressed ? next_slot : t;
      if (plan.compressed && !on) continue;
      index[b * plan.slots + slot] = t;
      valid[b * plan.slots + slot] = on;
      ++next_slot;
    }
  }
  return plan;
}

Tensor sma_compress(const Tensor& x, const SmaPlan& plan) {
  const char* op = "sma_compress";
  check_plan(op, plan);
  check_rows(op, "x", x, plan, plan.length, "L");
  auto routes = std::make_shared<PlanRoutes>(plan);
  Tensor out = moved(op, plan, x, /*to_slots=*/true, routes->compress());
  if (!any_requires_grad({&x})) return out;
  return record(op, out, {x}, [routes](const Tensor& g, const std::vector<bool>& need) {
    // dx[b, source(b, s)] = G[b, s]: the same routes, slots -> tokens.
    return std::vector<Tensor>{need[0] ? moved("sma_compress_backward", routes->plan, g, false, routes->compress())
                                       : Tensor()};
  });
}

Tensor sma_extract(const Tensor& y, const SmaPlan& plan) {
  const char* op = "sma_extract";
  check_plan(op, plan);
  check_rows(op, "y", y, plan, plan.slots, "S");
  auto routes = std::make_shared<PlanRoutes>(plan);
  Tensor out = moved(op, plan, y, /*to_slots=*/false, routes->extract());
  if (!any_requires_grad({&y})) return out;
  return record(op, out, {y}, [routes](const Tensor& g, const std::vector<bool>& need) {
    // dy[b, s] = G[b, slot_index[b, s]] at valid slots: the same routes, tokens -> slots.
    return std::vector<Tensor>{need[0] ? moved("sma_extract_backward", routes->plan, g, true, routes->extract())
                                       : Tensor()};
  });
}

}  // namespace seqboat
