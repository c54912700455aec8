// nn/decoding.cpp: incremental decoding (see decoding.h). Every step repeats
// the full forward's ops on one token, in the same order, so that the
// numbers agree to rounding: norm, the EMA step (ops/ssm.h ema_step, the
// recurrences ema_conv runs), hx_proj, the router; for an active token the
// projections, gamma/beta, rotary, and a softmax (or relu2) over the ring
// and itself with the bias of original positions; then the output.
#include "nn/decoding.h"

#include <fmt/format.h>

#include <algorithm>

#include "autograd/autograd.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/nn_ops.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/sma.h"
#include "ops/ema_scan.h"
#include "ops/position.h"
#include "ops/ssm.h"

namespace seqboat::nn {

namespace {

int64_t truncation_of(const SeqBoatLayer& layer) { return layer.cfg.truncation.value_or(0); }

// The kernel length the layer's EMA uses at sequence length `seen + 1`
// onwards: the truncation when it is shorter than the sequence, else none.
bool truncated_at(const SeqBoatLayer& layer, int64_t length) {
  const int64_t t = truncation_of(layer);
  return t > 0 && t < length;
}

// Row `slot` of ring (capacity, C) set to row (1, C) of `value`.
void ring_write(const Tensor& ring, int64_t slot, const Tensor& value) {
  copy_into(narrow(ring, 0, slot, 1), value.reshape({1, ring.size(1)}).detach());
}

Tensor rotate_at(const Tensor& v, int64_t position) {  // v (1, 1, Z)
  return rotary(v, from_vector_i64({position}, {1, 1}).to(v.device()));
}

}  // namespace

LayerCache empty_layer_state(const SeqBoatLayer& layer, DType dtype, Device device) {
  const LayerConfig& c = layer.cfg;
  const int64_t D = c.embed_dim, w = c.window_size, Lk = truncation_of(layer);
  NoGradGuard no_grad;
  LayerCache cache;
  cache.ema = zeros({1, D, c.ndim}, dtype, device);
  if (Lk > 0) cache.ema_inputs = zeros({Lk, D}, dtype, device);
  cache.keys = zeros({w, c.zdim}, dtype, device);
  cache.values = zeros({w, c.hdim}, dtype, device);
  cache.positions.assign(static_cast<size_t>(w), 0);
  return cache;
}

void capture_layer_state(const SeqBoatLayer& layer, const Tensor& ema_input, const Tensor& kv, const Tensor& v,
                         const SmaPlan& plan, LayerCache& cache) {
  if (ema_input.size(0) != 1) fail("decoding: the prefill runs one sequence at a time (B = 1)");
  const LayerConfig& c = layer.cfg;
  const MultiHeadEMA& ema = *layer.ssm;
  const int64_t L = ema_input.size(1), w = c.window_size;
  const DType dt = ema_input.dtype();
  const Device dev = ema_input.device();
  NoGradGuard no_grad;
  cache = empty_layer_state(layer, dt, dev);
  cache.seen = L;
  cache.ema = ema_state(ema_input, ema.delta, ema.alpha, ema.beta, ema.gamma, Tensor(), truncation_of(layer));
  if (truncation_of(layer) > 0) {  // the last Lk inputs, input t at slot t % Lk
    const int64_t Lk = truncation_of(layer);
    for (int64_t t = std::max<int64_t>(0, L - Lk); t < L; ++t)
      ring_write(cache.ema_inputs, t % Lk, narrow(ema_input, 1, t, 1));
  }
  if (!kv.defined()) return;  // no active token
  // The active tokens in order (slot s of the plan holds original position
  // slot_index[s] where slot_valid); the k-th active token goes to ring slot k % w.
  const std::vector<double> valid = plan.slot_valid.to_vector(), index = plan.slot_index.to_vector();
  std::vector<int64_t> slots;
  for (int64_t s = 0; s < plan.slots; ++s)
    if (valid[s] != 0) slots.push_back(s);
  cache.active = static_cast<int64_t>(slots.size());
  if (w == 0) return;
  for (int64_t k = std::max<int64_t>(0, cache.active - w); k < cache.active; ++k) {
    const int64_t s = slots[k];
    ring_write(cache.keys, k % w, narrow(kv, 1, s, 1));
    ring_write(cache.values, k % w, narrow(v, 1, s, 1));
    cache.positions[k % w] = static_cast<int64_t>(index[s]);
  }
}

Tensor layer_step(SeqBoatLayer& layer, const Tensor& input, LayerCache& cache) {
  const LayerConfig& c = layer.cfg;
  const MultiHeadEMA& ema = *layer.ssm;
  const int64_t D = c.embed_dim, Z = c.zdim, H = c.hdim, w = c.window_size, t = cache.seen;
  NoGradGuard no_grad;
  DropoutRng none;
  // 1. residual and optional prenorm
  Tensor res = input;
  Tensor x = c.prenorm ? layer.norm->forward(input) : input;
  // 2. the EMA step, then omega x and silu as MultiHeadEMA and the layer do
  Tensor xe = x.reshape({1, D});
  Tensor x_old;
  const int64_t Lk = truncation_of(layer);
  if (truncated_at(layer, t + 1) && t >= Lk) x_old = narrow(cache.ema_inputs, 0, t % Lk, 1);
  Tensor conv = ema_step(xe, x_old, ema.delta, ema.alpha, ema.beta, ema.gamma, cache.ema, x_old.defined() ? Lk : 0);
  if (Lk > 0) ring_write(cache.ema_inputs, t % Lk, xe);
  Tensor mx = silu(add(conv.reshape({1, 1, D}), mul(x, ema.omega)));
  // 3. [u, hx] = hx_proj(mx); 4. the router
  std::vector<Tensor> uhx = split(layer.hx_proj->forward(mx), {2, D}, -1);
  RouterOutput route = sma_router(uhx[0], layer.q_router->temp, Tensor());
  const bool active = route.active.item() != 0;
  layer.last_route = RouteInfo{route.prob, route.active, route.gate.detach(), SmaPlan{}};
  // 5-8. the attention unit, for an active token only
  Tensor h = zeros({1, 1, D}, input.dtype(), input.device());
  if (active) {
    std::vector<Tensor> zrv = split(silu(layer.mx_proj->forward(mx)), {Z, H, H}, -1);
    const Tensor &z = zrv[0], &r = zrv[1], &v = zrv[2];
    Tensor qv = add(mul(z, narrow(layer.gamma, 0, 0, 1)), narrow(layer.beta, 0, 0, 1));
    Tensor kv = add(mul(z, narrow(layer.gamma, 0, 1, 1)), narrow(layer.beta, 0, 1, 1));
    if (c.rel_pos_bias == RelPosType::Rotary) {
      qv = rotate_at(qv, t);
      kv = rotate_at(kv, t);
    }
    // Keys: the ring's filled slots, then this token (it sees itself).
    const int64_t held = std::min(cache.active, w);
    std::vector<Tensor> key_rows{kv.reshape({1, Z})}, value_rows{v.reshape({1, H})};
    std::vector<int64_t> key_pos{t};
    if (held > 0) {
      key_rows.insert(key_rows.begin(), narrow(cache.keys, 0, 0, held));
      value_rows.insert(value_rows.begin(), narrow(cache.values, 0, 0, held));
      key_pos.insert(key_pos.begin(), cache.positions.begin(), cache.positions.begin() + held);
    }
    Tensor K = concat(key_rows, 0), V = concat(value_rows, 0);  // (n, Z), (n, H)
    const int64_t n = K.size(0);
    const bool softmax_act = c.attention_activation == AttnActivation::Softmax;
    const double scale = softmax_act ? 1.0 / std::sqrt(static_cast<double>(Z)) : 1.0 / static_cast<double>(w);
    Tensor pre = mul_scalar(matmul(qv.reshape({1, Z}), transpose(K, 0, 1)), scale);  // (1, n)
    if (c.rel_pos_bias == RelPosType::Simple) {
      Tensor pq = from_vector_i64({t}, {1, 1}).to(input.device());
      Tensor pk = from_vector_i64(key_pos, {1, n}).to(input.device());
      pre = add(pre, rel_pos_bias_gather(layer.rel_pos_w, pq, pk).reshape({1, n}));
    }
    Tensor coef = softmax_act ? softmax(pre, -1) : square(relu(pre));
    Tensor o = matmul(coef, V).reshape({1, 1, H});
    h = mul(layer.h_proj->forward(mul(o, r)), route.gate.reshape({1, 1, 1}));
    if (w > 0) {  // push this token: the k-th active token goes to ring slot k % w
      ring_write(cache.keys, cache.active % w, kv);
      ring_write(cache.values, cache.active % w, v);
      cache.positions[cache.active % w] = t;
    }
    ++cache.active;
  }
  cache.seen = t + 1;
  // 9. output (causal: dropout is off in eval mode)
  Tensor y = silu(add(add(uhx[1], h), res));
  return c.prenorm ? y : layer.norm->forward(y);
}

LMDecoder::LMDecoder(SeqBoatLM& lm) : lm_(lm) {
  if (lm.cfg.bidirectional) fail("LMDecoder: a bidirectional model cannot be decoded token by token");
  lm_.eval();
  reset();
}

void LMDecoder::reset() {
  const Tensor& w = lm_.embed->weight;
  caches_.clear();
  for (const auto& layer : lm_.seq_layers) caches_.push_back(empty_layer_state(*layer, w.dtype(), w.device()));
  position_ = 0;
}

Tensor LMDecoder::prefill(const std::vector<int64_t>& tokens) {
  if (tokens.empty()) fail("LMDecoder::prefill: the prompt must hold at least one token");
  NoGradGuard no_grad;
  reset();
  for (size_t i = 0; i < lm_.seq_layers.size(); ++i) lm_.seq_layers[i]->capture = &caches_[i];
  DropoutRng none;
  Tensor logits;
  try {
    const Device dev = lm_.embed->weight.device();
    logits = lm_.forward(from_vector_i64(tokens, {1, static_cast<int64_t>(tokens.size())}).to(dev), none);
  } catch (...) {
    for (auto& layer : lm_.seq_layers) layer->capture = nullptr;
    throw;
  }
  for (auto& layer : lm_.seq_layers) layer->capture = nullptr;
  position_ = static_cast<int64_t>(tokens.size());
  return logits.reshape({position_, logits.size(-1)});
}

Tensor LMDecoder::step(int64_t token) {
  const int64_t V = lm_.cfg.vocab_size;
  if (token < 0 || token >= V)
    fail(fmt::format("LMDecoder::step: token {} is outside the vocabulary [0, {})", token, V));
  NoGradGuard no_grad;
  const Device dev = lm_.embed->weight.device();
  Tensor h = lm_.embed->forward(from_vector_i64({token}, {1, 1}).to(dev));
  for (size_t i = 0; i < lm_.seq_layers.size(); ++i) h = layer_step(*lm_.seq_layers[i], h, caches_[i]);
  ++position_;
  Tensor logits = lm_.head->forward(lm_.final_norm->forward(h));
  return logits.reshape({logits.size(-1)});
}

int64_t LMDecoder::state_bytes() const {
  int64_t bytes = 0;
  for (const LayerCache& c : caches_)
    for (const Tensor* t : {&c.ema, &c.ema_inputs, &c.keys, &c.values})
      if (t->defined()) bytes += t->numel() * static_cast<int64_t>(dtype_size(t->dtype()));
  return bytes;
}

}  // namespace seqboat::nn
