// ops/sma.cpp: Sparse Modular Activation ops (ops/sma.h): checks, plans and
// autograd; the kernels are in cpu/sma.cpp.
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

#include "ops/sma.h"

#include <algorithm>

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace seqboat {

namespace {

using kernels::PlanShape;
using kernels::SmaRoute;

struct RouterSaved {
  Tensor u;       // (B, L, 2) contiguous, detached
  Tensor active;  // (B, L) UInt8
  Tensor temp;    // (1) contiguous, detached
};

void check_plan(const char* op, const SmaPlan& plan) {
  if (!plan.slot_index.defined() || !plan.slot_valid.defined() ||
      plan.slot_index.shape() != Shape{plan.batch, plan.slots} ||
      plan.slot_valid.shape() != Shape{plan.batch, plan.slots})
    fail(fmt::format("{}: malformed plan (batch {}, length {}, slots {}): slot_index and slot_valid must be (B, S)", op,
                     plan.batch, plan.length, plan.slots));
}

// x must be (plan.batch, rows, C).
void check_rows(const char* op, const char* arg, const Tensor& x, const SmaPlan& plan, int64_t rows,
                const char* rows_name) {
  check_float(op, arg, x);
  common_device(op, {&x, &plan.slot_index});
  if (x.dim() != 3 || x.size(0) != plan.batch || x.size(1) != rows)
    fail(fmt::format("{}: {} must be (B, {}, C) = ({}, {}, C) for the plan (length {}, slots {}), got {}", op, arg,
                     rows_name, plan.batch, rows, plan.length, plan.slots, shape_str(x.shape())));
}

// The plan's tensors, contiguous, as the movers read them.
struct PlanRoutes {
  PlanShape shape;
  Tensor index, valid;
  explicit PlanRoutes(const SmaPlan& p)
      : shape{p.batch, p.length, p.slots, p.compressed},
        index(p.slot_index.contiguous()),
        valid(p.slot_valid.contiguous()) {}
};

// x moved between the token layout (B, L, C) and the slot layout (B, S, C).
Tensor moved(const char* op, const PlanRoutes& r, const Tensor& x, SmaRoute route, bool to_slots) {
  Tensor xc = x.contiguous();
  const int64_t C = x.size(2);
  Tensor out = empty({r.shape.batch, to_slots ? r.shape.slots : r.shape.length, C}, x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, x.device(), T, sma_move_rows)
    (r.shape, C, route, to_slots, r.index.ptr<int64_t>(), r.valid.ptr<uint8_t>(), xc.ptr<T>(), out.ptr<T>());
  });
  return out;
}

}  // namespace

RouterOutput sma_router(const Tensor& u, const Tensor& temp, const Tensor& padding_mask) {
  const char* op = "sma_router";
  check_float(op, "u", u);
  check_float(op, "temp", temp);
  check_same_dtype(op, u, temp);
  const Device dev = common_device(op, {&u, &temp, &padding_mask});
  if (u.dim() != 3 || u.size(2) != 2)
    fail(fmt::format("{}: u must be (B, L, 2) (two routing options), got {}", op, shape_str(u.shape())));
  if (temp.numel() != 1) fail(fmt::format("{}: temp must hold one value, got shape {}", op, shape_str(temp.shape())));
  const int64_t B = u.size(0), L = u.size(1);
  if (padding_mask.defined()) {
    check_dtype(op, "padding_mask", padding_mask, DType::UInt8);
    if (padding_mask.shape() != Shape{B, L})
      fail(fmt::format("{}: padding_mask must be (B, L) = [{}, {}] for u {}, got {}", op, B, L, shape_str(u.shape()),
                       shape_str(padding_mask.shape())));
  }
  auto saved = std::make_shared<RouterSaved>();
  saved->u = u.detach().contiguous();
  saved->temp = temp.detach().contiguous();
  Tensor pad = padding_mask.defined() ? padding_mask.contiguous() : Tensor();
  RouterOutput r;
  r.gate = empty({B, L}, u.dtype(), dev);
  r.active = empty({B, L}, DType::UInt8, dev);
  r.prob = empty({B, L}, u.dtype(), dev);
  dispatch_float(u.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, sma_router_forward)
    (B * L, saved->u.ptr<T>(), saved->temp.ptr<T>(), pad.defined() ? pad.ptr<uint8_t>() : nullptr, r.gate.ptr<T>(),
     r.active.ptr<uint8_t>(), r.prob.ptr<T>());
  });
  saved->active = r.active;
  if (!any_requires_grad({&u, &temp})) return r;
  const Shape temp_shape = temp.shape();
  r.gate = record(op, r.gate, {u, temp}, [saved, temp_shape](const Tensor& g, const std::vector<bool>& need) {
    const char* bop = "sma_router_backward";
    Tensor G = g.contiguous();
    std::vector<Tensor> grads(2);
    if (need[0]) grads[0] = empty(saved->u.shape(), G.dtype(), G.device());
    if (need[1]) grads[1] = empty(temp_shape, G.dtype(), G.device());
    dispatch_float(G.dtype(), bop, [&](auto tag) {
      using T = decltype(tag);
      SEQBOAT_KERNEL(bop, G.device(), T, sma_router_backward)
      (G.numel(), saved->u.ptr<T>(), saved->temp.ptr<T>(), saved->active.ptr<uint8_t>(), G.ptr<T>(),
       need[0] ? grads[0].ptr<T>() : nullptr, need[1] ? grads[1].ptr<T>() : nullptr);
    });
    return grads;
  });
  return r;
}

SmaPlan sma_plan(const Tensor& active, const std::function<int64_t(int64_t)>& batch_max) {
  const char* op = "sma_plan";
  check_defined(op, "active", active);
  check_dtype(op, "active", active, DType::UInt8);
  check_dim(op, "active", active, 2);
  const Device dev = active.device();
  const int64_t B = active.size(0), L = active.size(1);
  Tensor act = active.contiguous();
  Tensor counts = empty({B}, DType::Int64, dev);
  SEQBOAT_UNTYPED_KERNEL(op, dev, sma_count_active)(B, L, act.ptr<uint8_t>(), counts.ptr<int64_t>());
  int64_t S = 0;  // the plan's shape depends on the data: the counts come to the host
  for (double c : counts.to_vector()) S = std::max<int64_t>(S, static_cast<int64_t>(c));
  // Whether the plan compresses depends on every row of the batch (a fully
  // active row anywhere turns compression off for all).
  if (batch_max) S = batch_max(S);
  SmaPlan plan;
  plan.batch = B;
  plan.length = L;
  plan.compressed = S < L;
  plan.slots = plan.compressed ? S : L;
  plan.slot_index = empty({B, plan.slots}, DType::Int64, dev);
  plan.slot_valid = empty({B, plan.slots}, DType::UInt8, dev);
  SEQBOAT_UNTYPED_KERNEL(op, dev, sma_plan_fill)
  (PlanShape{B, L, plan.slots, plan.compressed}, act.ptr<uint8_t>(), plan.slot_index.ptr<int64_t>(),
   plan.slot_valid.ptr<uint8_t>());
  return plan;
}

Tensor sma_compress(const Tensor& x, const SmaPlan& plan) {
  const char* op = "sma_compress";
  check_plan(op, plan);
  check_rows(op, "x", x, plan, plan.length, "L");
  auto routes = std::make_shared<PlanRoutes>(plan);
  Tensor out = moved(op, *routes, x, SmaRoute::Compress, /*to_slots=*/true);
  if (!any_requires_grad({&x})) return out;
  return record(op, out, {x}, [routes](const Tensor& g, const std::vector<bool>& need) {
    // dx[b, source(b, s)] = G[b, s]: the same routes, slots -> tokens.
    return std::vector<Tensor>{need[0] ? moved("sma_compress_backward", *routes, g, SmaRoute::Compress, false)
                                       : Tensor()};
  });
}

Tensor sma_extract(const Tensor& y, const SmaPlan& plan) {
  const char* op = "sma_extract";
  check_plan(op, plan);
  check_rows(op, "y", y, plan, plan.slots, "S");
  auto routes = std::make_shared<PlanRoutes>(plan);
  Tensor out = moved(op, *routes, y, SmaRoute::Extract, /*to_slots=*/false);
  if (!any_requires_grad({&y})) return out;
  return record(op, out, {y}, [routes](const Tensor& g, const std::vector<bool>& need) {
    // dy[b, s] = G[b, slot_index[b, s]] at valid slots: the same routes, tokens -> slots.
    return std::vector<Tensor>{need[0] ? moved("sma_extract_backward", *routes, g, SmaRoute::Extract, true) : Tensor()};
  });
}

}  // namespace seqboat
