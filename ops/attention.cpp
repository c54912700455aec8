// ops/attention.cpp: fused local attention (ops/attention.h): argument
// checks, the saved state and autograd; the kernels are
// local_attention_forward / local_attention_backward (cpu/attention.cpp).
//
// Window geometry. reach = min(window, S - 1). Query slot i considers the
// `width` key slots j = i - reach + t, t = 0 .. width - 1, with
//   width = reach + 1 (causal: j = i - reach .. i)
//   width = 2 reach + 1 (bidirectional: j = i - reach .. i + reach).
// Key t of query i is visible iff 0 <= j < S and valid[b, j]; valid is
// 1 - key_mask, except that for softmax a batch row with no valid key at all
// is made fully valid (the reference's `padding_mask_all` rule).
//
// ==== forward, per query (b, i); c = 1 / sqrt(Z) (softmax) or 1 / n (relu2) ====
//   pre_t = c (q_i . k_j) + w[r(i, j)]          r(i, j) = clamp(M - 1 + pos_j - pos_i, 0, 2M - 2)
//   softmax: p_t = exp(pre_t - max) / sum_{visible t'} exp(pre_t' - max)    (0 where not visible)
//            coef_t = p_t
//   relu2:   a_t = relu(pre_t) (0 where not visible),  coef_t = a_t^2
//   o_i = sum_t coef_t v_j
// Saved for the backward: weights (B, S, width) = p (softmax) or a (relu2),
// plus contiguous q, k, v, w, positions and the (B, S) valid-key mask.
//
// ==== backward, G = do (B, S, H) ====
//   dcoef_t = G_i . v_j
//   dpre_t  = p_t (dcoef_t - sum_t' p_t' dcoef_t')     softmax (softmax Jacobian)
//             term 1: p_t dcoef_t                  direct path through exp(pre_t)
//             term 2: -p_t sum_t' p_t' dcoef_t'    path through the normaliser
//   dpre_t  = 2 a_t dcoef_t                            relu2 (relu'(0) := 0, so a_t = 0 gives 0)
//   dq_i   = c sum_t dpre_t k_j                          term 3: pre_t through q_i
//   dk_j   = c sum over (i, t) with key j of dpre_t q_i    term 4: pre_t through k_j
//   dv_j   = sum over (i, t) with key j of coef_t G_i      term 5: o_i through v_j
//   dw[r]  += dpre_t for r = r(i, j)                      term 6: pre_t through the bias (scatter-add)
// A query with no visible key has all coef_t = 0, so it outputs 0 and every
// term above vanishes for it.

#include "ops/attention.h"

#include <cmath>
#include <memory>

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace seqboat {

namespace {

using kernels::AttnGeometry;
using kernels::AttnInputs;

constexpr const char* kOp = "local_attention";

void check_float3(const char* arg, const Tensor& t) {
  check_float(kOp, arg, t);
  check_dim(kOp, arg, t, 3);
}

void check_per_slot(const char* arg, const Tensor& t, DType dt, int64_t B, int64_t S) {
  if (!t.defined()) return;
  check_dtype(kOp, arg, t, dt);
  if (t.dim() != 2 || t.size(0) != B || t.size(1) != S)
    fail(fmt::format("{}: {} must have shape [{}, {}] (B, S), got {}", kOp, arg, B, S, shape_str(t.shape())));
}

AttnGeometry check_args(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                        const Tensor& positions, const Tensor& rel_bias, const LocalAttentionOptions& opt) {
  check_float3("q", q);
  check_float3("k", k);
  check_float3("v", v);
  check_same_dtype(kOp, q, k);
  check_same_dtype(kOp, q, v);
  if (q.shape() != k.shape() || v.size(0) != q.size(0) || v.size(1) != q.size(1))
    fail(fmt::format("{}: q {} and k {} must both be (B, S, Z) and v {} must be (B, S, H)", kOp, shape_str(q.shape()),
                     shape_str(k.shape()), shape_str(v.shape())));
  AttnGeometry a;
  a.batch = q.size(0);
  a.slots = q.size(1);
  a.zdim = q.size(2);
  a.hdim = v.size(2);
  check_per_slot("key_mask", key_mask, DType::UInt8, a.batch, a.slots);
  check_per_slot("positions", positions, DType::Int64, a.batch, a.slots);
  common_device(kOp, {&q, &k, &v, &key_mask, &positions, &rel_bias});
  if (rel_bias.defined()) {
    check_same_dtype(kOp, q, rel_bias);
    if (rel_bias.dim() != 1 || rel_bias.size(0) % 2 == 0)
      fail(fmt::format("{}: rel_bias must be a vector of odd length 2M - 1, got shape {}", kOp,
                       shape_str(rel_bias.shape())));
    if (!positions.defined())
      fail(fmt::format("{}: rel_bias {} needs positions (B, S)", kOp, shape_str(rel_bias.shape())));
    a.bias_m = (rel_bias.size(0) + 1) / 2;
  }
  if (opt.window < 0)
    fail(fmt::format("{}: window must be >= 0, got {} (q {})", kOp, opt.window, shape_str(q.shape())));
  if (opt.activation == AttnActivation::Relu2 && opt.window == 0)
    fail(fmt::format("{}: relu2 scales q by 1/window (causal) or 1/(2 window), so window must be >= 1 (q {})", kOp,
                     shape_str(q.shape())));
  a.window = opt.window;
  a.causal = opt.causal;
  a.activation = opt.activation;
  a.reach = std::min<int64_t>(opt.window, std::max<int64_t>(a.slots - 1, 0));
  a.width = a.causal ? a.reach + 1 : 2 * a.reach + 1;
  if (opt.activation == AttnActivation::Softmax) a.q_scale = 1.0 / std::sqrt(static_cast<double>(a.zdim));
  else a.q_scale = 1.0 / static_cast<double>(a.causal ? opt.window : 2 * opt.window);
  return a;
}

// (B, S) UInt8: the key slots a query may attend (the attention_valid_keys kernel).
Tensor valid_keys(const Tensor& key_mask, const AttnGeometry& a, Device dev) {
  Tensor valid = empty({a.batch, a.slots}, DType::UInt8, dev);
  Tensor mask = key_mask.defined() ? key_mask.contiguous() : Tensor();
  SEQBOAT_UNTYPED_KERNEL(kOp, dev, attention_valid_keys)
  (a, mask.defined() ? mask.ptr<uint8_t>() : nullptr, valid.ptr<uint8_t>());
  return valid;
}

// Everything the backward needs, held by the closure.
struct AttnSaved {
  AttnGeometry geom;
  Tensor q, k, v, w, pos, valid;  // contiguous, detached (w, pos possibly undefined)
  Tensor weights;                 // (B, S, width): p (softmax) or a = relu(pre) (relu2)

  template <class T>
  AttnInputs<T> inputs() const {
    return {q.ptr<T>(),
            k.ptr<T>(),
            v.ptr<T>(),
            w.defined() ? w.ptr<T>() : nullptr,
            pos.defined() ? pos.ptr<int64_t>() : nullptr,
            valid.defined() ? valid.ptr<uint8_t>() : nullptr,
            q.strides()[1],
            k.strides()[1],
            v.strides()[1]};
  }
};

// t (B, S, C) as the kernels read it: its last dim contiguous and its slots
// evenly spaced (a narrow view of a wider tensor qualifies), else a copy.
Tensor slot_rows(const Tensor& t) {
  const bool rows = t.strides()[2] == 1 && (t.size(0) == 1 || t.strides()[0] == t.size(1) * t.strides()[1]) &&
                    t.strides()[1] >= t.size(2);
  return rows ? t.detach() : t.detach().contiguous();
}

std::vector<Tensor> local_attention_backward(const AttnSaved& s, const Tensor& grad, const std::vector<bool>& need) {
  const char* op = "local_attention_backward";
  const AttnGeometry& a = s.geom;
  const Device dev = grad.device();
  Tensor G = grad.contiguous();
  std::vector<Tensor> grads(4);
  const bool need_dpre = need[0] || need[1] || (s.w.defined() && need[3]);
  Tensor dpre = need_dpre ? empty({a.batch, a.slots, a.width}, G.dtype(), dev) : Tensor();
  if (need[0]) grads[0] = empty(s.q.shape(), G.dtype(), dev);
  if (need[1]) grads[1] = empty(s.k.shape(), G.dtype(), dev);
  if (need[2]) grads[2] = empty(s.v.shape(), G.dtype(), dev);
  if (s.w.defined() && need[3]) grads[3] = empty(s.w.shape(), G.dtype(), dev);
  dispatch_float(G.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    auto out = [](const Tensor& t) { return t.defined() ? t.ptr<T>() : nullptr; };
    SEQBOAT_KERNEL(op, dev, T, local_attention_backward)
    (a, s.inputs<T>(), s.weights.ptr<T>(), G.ptr<T>(), out(dpre), out(grads[0]), out(grads[1]), out(grads[2]),
     out(grads[3]));
  });
  return grads;
}

Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? t.detach().contiguous() : Tensor(); }

}  // namespace

Tensor local_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                       const Tensor& positions, const Tensor& rel_bias, const LocalAttentionOptions& opt) {
  AttnGeometry geom = check_args(q, k, v, key_mask, positions, rel_bias, opt);
  const Device dev = q.device();
  auto saved = std::make_shared<AttnSaved>();
  saved->geom = geom;
  saved->q = slot_rows(q);
  saved->k = slot_rows(k);
  saved->v = slot_rows(v);
  saved->w = contiguous_or_undefined(rel_bias);
  saved->pos = rel_bias.defined() ? positions.contiguous() : Tensor();
  saved->valid = valid_keys(key_mask, geom, dev);
  saved->weights = empty({geom.batch, geom.slots, geom.width}, q.dtype(), dev);
  Tensor out = empty({geom.batch, geom.slots, geom.hdim}, q.dtype(), dev);
  dispatch_float(q.dtype(), kOp, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(kOp, dev, T, local_attention_forward)
    (geom, saved->inputs<T>(), saved->weights.ptr<T>(), out.ptr<T>());
  });
  if (!any_requires_grad({&q, &k, &v, &rel_bias})) return out;
  return record(kOp, out, {q, k, v, rel_bias}, [saved](const Tensor& g, const std::vector<bool>& need) {
    return local_attention_backward(*saved, g, need);
  });
}

}  // namespace seqboat
