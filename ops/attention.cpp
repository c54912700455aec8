// ops/attention.cpp: fused local attention (ops/attention.h), CPU only.
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
//
// Threads: the forward and dq run in parallel over query rows (b, i); dk and
// dv in parallel over key rows (b, j), each summing its (i, t) pairs in a fixed
// order; dw is a serial scatter-add in (b, i, t) order. Every output element is
// written by one thread in a fixed order: results do not depend on threads.
#include "ops/attention.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "autograd/autograd.h"
#include "ops/kernel_util.h"
#include "ops/ssm.h"

namespace seqboat {

namespace {

constexpr const char* kOp = "local_attention";
constexpr int64_t kParallelMacs = 1 << 15;  // multiply-adds below which loops stay serial

// Checked arguments and the window geometry (see the top of this file).
struct AttnGeometry {
  int64_t batch = 0, slots = 0, zdim = 0, hdim = 0;
  int64_t window = 0;  // as given
  int64_t reach = 0;   // min(window, S - 1)
  int64_t width = 1;   // keys per query: reach + 1 or 2 reach + 1
  int64_t bias_m = 0;  // M of the bias vector (2M - 1 entries), 0 without bias
  bool causal = false;
  AttnActivation activation = AttnActivation::Softmax;
  double q_scale = 1;  // c: 1 / sqrt(Z) or 1 / n

  int64_t key_of(int64_t i, int64_t t) const { return i - reach + t; }
  bool parallel() const { return batch * slots * width * (zdim + hdim) > kParallelMacs; }
};

void check_float3(const char* arg, const Tensor& t) {
  check_float(kOp, arg, t);
  check_dim(kOp, arg, t, 3);
}

void check_per_slot(const char* arg, const Tensor& t, DType dt, int64_t B, int64_t S) {
  if (!t.defined()) return;
  check_cpu(kOp, t);
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
  if (rel_bias.defined()) {
    check_cpu(kOp, rel_bias);
    check_same_dtype(kOp, q, rel_bias);
    if (rel_bias.dim() != 1 || rel_bias.size(0) % 2 == 0)
      fail(fmt::format("{}: rel_bias must be a vector of odd length 2M - 1, got shape {}", kOp,
                       shape_str(rel_bias.shape())));
    if (!positions.defined()) fail(fmt::format("{}: rel_bias {} needs positions (B, S)", kOp, shape_str(rel_bias.shape())));
    a.bias_m = (rel_bias.size(0) + 1) / 2;
  }
  if (opt.window < 0) fail(fmt::format("{}: window must be >= 0, got {} (q {})", kOp, opt.window, shape_str(q.shape())));
  if (opt.activation == AttnActivation::Relu2 && opt.window == 0)
    fail(fmt::format("{}: relu2 scales q by 1/window (causal) or 1/(2 window), so window must be >= 1 (q {})", kOp,
                     shape_str(q.shape())));
  a.window = opt.window;
  a.causal = opt.causal;
  a.activation = opt.activation;
  a.reach = std::min<int64_t>(opt.window, std::max<int64_t>(a.slots - 1, 0));
  a.width = a.causal ? a.reach + 1 : 2 * a.reach + 1;
  if (opt.activation == AttnActivation::Softmax)
    a.q_scale = 1.0 / std::sqrt(static_cast<double>(a.zdim));
  else
    a.q_scale = 1.0 / static_cast<double>(a.causal ? opt.window : 2 * opt.window);
  return a;
}

// (B, S) UInt8, 1 where key slot j is valid: 1 - key_mask, with the softmax
// rule that a batch row without any valid key is made fully valid.
Tensor valid_keys(const Tensor& key_mask, const AttnGeometry& a) {
  const int64_t B = a.batch, S = a.slots;
  Tensor valid = ones({B, S}, DType::UInt8);
  if (!key_mask.defined()) return valid;
  Tensor mask = key_mask.contiguous();
  const uint8_t* m = mask.data<uint8_t>();
  uint8_t* ok = valid.data<uint8_t>();
  for (int64_t b = 0; b < B; ++b) {
    bool any_valid = false;
    for (int64_t j = 0; j < S; ++j) {
      ok[b * S + j] = m[b * S + j] == 0;
      any_valid = any_valid || ok[b * S + j];
    }
    if (!any_valid && a.activation == AttnActivation::Softmax) std::fill(ok + b * S, ok + (b + 1) * S, uint8_t{1});
  }
  return valid;
}

// Raw views of the contiguous saved inputs (w, pos may be null).
template <class T>
struct AttnInputs {
  const T* q;
  const T* k;
  const T* v;
  const T* w;
  const int64_t* pos;
  const uint8_t* valid;
};

// Everything the backward needs, held by the closure.
struct AttnSaved {
  AttnGeometry geom;
  Tensor q, k, v, w, pos, valid;  // contiguous, detached (w, pos possibly undefined)
  Tensor weights;                 // (B, S, width): p (softmax) or a = relu(pre) (relu2)

  template <class T>
  AttnInputs<T> inputs() const {
    return {q.data<T>(), k.data<T>(), v.data<T>(), w.defined() ? w.data<T>() : nullptr,
            pos.defined() ? pos.data<int64_t>() : nullptr, valid.data<uint8_t>()};
  }
};

// Eigen's dot keeps several vector accumulators; a plain loop cannot be
// vectorised without reassociating the sum and ran 5x slower here.
template <class T>
T dot(const T* a, const T* b, int64_t n) {
  using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  return Eigen::Map<const Vec>(a, n).dot(Eigen::Map<const Vec>(b, n));
}

// y += alpha x
template <class T>
void axpy(T alpha, const T* x, T* y, int64_t n) {
  for (int64_t z = 0; z < n; ++z) y[z] += alpha * x[z];
}

template <class T>
bool key_visible(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t j) {
  return j >= 0 && j < a.slots && in.valid[b * a.slots + j];
}

// w[r(i, j)] (0 without bias), the bias between slots i and j of row b.
template <class T>
int64_t bias_slot(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i, int64_t j) {
  return rel_pos_index(a.bias_m, in.pos[b * a.slots + i], in.pos[b * a.slots + j]);
}

template <class T>
T pre_activation(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i, int64_t j) {
  const int64_t S = a.slots, Z = a.zdim;
  T pre = T(a.q_scale) * dot(in.q + (b * S + i) * Z, in.k + (b * S + j) * Z, Z);
  if (in.w) pre += in.w[bias_slot(a, in, b, i, j)];
  return pre;
}

// coef_t from the saved weight: p (softmax) or a^2 (relu2).
template <class T>
T coef_of(const AttnGeometry& a, T weight) {
  return a.activation == AttnActivation::Softmax ? weight : weight * weight;
}

// Softmax weights of one query row: p over the visible keys, 0 elsewhere
// (all 0 when no key is visible).
template <class T>
void softmax_row(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i, T* p) {
  T max_pre = -std::numeric_limits<T>::infinity();
  for (int64_t t = 0; t < a.width; ++t) {
    const int64_t j = a.key_of(i, t);
    p[t] = key_visible(a, in, b, j) ? pre_activation(a, in, b, i, j) : -std::numeric_limits<T>::infinity();
    max_pre = std::max(max_pre, p[t]);
  }
  if (max_pre == -std::numeric_limits<T>::infinity()) {  // no visible key
    std::fill(p, p + a.width, T(0));
    return;
  }
  T total = 0;
  for (int64_t t = 0; t < a.width; ++t) {
    p[t] = std::exp(p[t] - max_pre);  // exp(-inf) = 0 for keys not visible
    total += p[t];
  }
  for (int64_t t = 0; t < a.width; ++t) p[t] /= total;
}

// Relu2 weights of one query row: a = relu(pre) over the visible keys, 0 elsewhere.
template <class T>
void relu2_row(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i, T* act) {
  for (int64_t t = 0; t < a.width; ++t) {
    const int64_t j = a.key_of(i, t);
    act[t] = key_visible(a, in, b, j) ? std::max(pre_activation(a, in, b, i, j), T(0)) : T(0);
  }
}

template <class T>
void local_attention_forward(const AttnGeometry& a, const AttnInputs<T>& in, T* weights, T* out) {
  const int64_t B = a.batch, S = a.slots, H = a.hdim;
#pragma omp parallel for collapse(2) schedule(static) if (a.parallel())
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < S; ++i) {
      T* wrow = weights + (b * S + i) * a.width;
      if (a.activation == AttnActivation::Softmax) softmax_row(a, in, b, i, wrow);
      else relu2_row(a, in, b, i, wrow);
      T* o = out + (b * S + i) * H;
      std::fill(o, o + H, T(0));
      for (int64_t t = 0; t < a.width; ++t) {
        const T coef = coef_of(a, wrow[t]);
        if (coef != T(0)) axpy(coef, in.v + (b * S + a.key_of(i, t)) * H, o, H);
      }
    }
}

// dpre (B, S, width) and dq, per query row.
template <class T>
void backward_query_rows(const AttnGeometry& a, const AttnInputs<T>& in, const T* weights, const T* G, T* dpre,
                         T* dq) {
  const int64_t B = a.batch, S = a.slots, Z = a.zdim, H = a.hdim;
#pragma omp parallel for collapse(2) schedule(static) if (a.parallel())
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < S; ++i) {
      const T* wrow = weights + (b * S + i) * a.width;
      T* drow = dpre + (b * S + i) * a.width;
      const T* g = G + (b * S + i) * H;
      for (int64_t t = 0; t < a.width; ++t)  // dcoef_t = G_i . v_j (needed only where the weight is nonzero)
        drow[t] = wrow[t] != T(0) ? dot(g, in.v + (b * S + a.key_of(i, t)) * H, H) : T(0);
      if (a.activation == AttnActivation::Softmax) {
        T p_dcoef = 0;  // sum_t' p_t' dcoef_t'
        for (int64_t t = 0; t < a.width; ++t) p_dcoef += wrow[t] * drow[t];
        for (int64_t t = 0; t < a.width; ++t)
          drow[t] = wrow[t] * drow[t]        // term 1: direct path through exp(pre_t)
                    - wrow[t] * p_dcoef;     // term 2: path through the normaliser
      } else {
        for (int64_t t = 0; t < a.width; ++t) drow[t] = T(2) * wrow[t] * drow[t];  // d(a^2)/dpre = 2 relu(pre)
      }
      if (!dq) continue;
      T* dqi = dq + (b * S + i) * Z;
      std::fill(dqi, dqi + Z, T(0));
      for (int64_t t = 0; t < a.width; ++t)  // term 3: dq_i = c sum_t dpre_t k_j
        if (drow[t] != T(0)) axpy(T(a.q_scale) * drow[t], in.k + (b * S + a.key_of(i, t)) * Z, dqi, Z);
    }
}

// dk and dv, per key row j: the queries that see key j through window offset t
// are i = j + reach - t.
template <class T>
void backward_key_rows(const AttnGeometry& a, const AttnInputs<T>& in, const T* weights, const T* G, const T* dpre,
                       T* dk, T* dv) {
  const int64_t B = a.batch, S = a.slots, Z = a.zdim, H = a.hdim;
#pragma omp parallel for collapse(2) schedule(static) if (a.parallel())
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < S; ++j) {
      T* dkj = dk ? dk + (b * S + j) * Z : nullptr;
      T* dvj = dv ? dv + (b * S + j) * H : nullptr;
      if (dkj) std::fill(dkj, dkj + Z, T(0));
      if (dvj) std::fill(dvj, dvj + H, T(0));
      for (int64_t t = 0; t < a.width; ++t) {
        const int64_t i = j + a.reach - t;
        if (i < 0 || i >= S) continue;
        const int64_t it = (b * S + i) * a.width + t;
        if (dkj && dpre[it] != T(0))  // term 4: dk_j += c dpre_t q_i
          axpy(T(a.q_scale) * dpre[it], in.q + (b * S + i) * Z, dkj, Z);
        const T coef = coef_of(a, weights[it]);
        if (dvj && coef != T(0)) axpy(coef, G + (b * S + i) * H, dvj, H);  // term 5: dv_j += coef_t G_i
      }
    }
}

// Term 6: dw[r(i, j)] += dpre_t, serial in (b, i, t) order.
template <class T>
void backward_bias(const AttnGeometry& a, const AttnInputs<T>& in, const T* dpre, T* dw) {
  std::fill(dw, dw + 2 * a.bias_m - 1, T(0));
  for (int64_t b = 0; b < a.batch; ++b)
    for (int64_t i = 0; i < a.slots; ++i)
      for (int64_t t = 0; t < a.width; ++t) {
        const int64_t j = a.key_of(i, t);
        const T d = dpre[(b * a.slots + i) * a.width + t];
        if (j >= 0 && j < a.slots && d != T(0)) dw[bias_slot(a, in, b, i, j)] += d;
      }
}

std::vector<Tensor> local_attention_backward(const AttnSaved& s, const Tensor& grad, const std::vector<bool>& need) {
  const AttnGeometry& a = s.geom;
  Tensor G = grad.contiguous();
  std::vector<Tensor> grads(4);
  const bool need_dpre = need[0] || need[1] || (s.w.defined() && need[3]);
  dispatch_float(G.dtype(), "local_attention_backward", [&](auto tag) {
    using T = decltype(tag);
    AttnInputs<T> in = s.inputs<T>();
    const T* weights = s.weights.data<T>();
    Tensor dpre = empty({a.batch, a.slots, a.width}, G.dtype());
    if (need[0]) grads[0] = empty(s.q.shape(), G.dtype());
    if (need[1]) grads[1] = empty(s.k.shape(), G.dtype());
    if (need[2]) grads[2] = empty(s.v.shape(), G.dtype());
    if (s.w.defined() && need[3]) grads[3] = empty(s.w.shape(), G.dtype());
    if (need_dpre)
      backward_query_rows(a, in, weights, G.data<T>(), dpre.data<T>(), need[0] ? grads[0].data<T>() : nullptr);
    if (need[1] || need[2])
      backward_key_rows(a, in, weights, G.data<T>(), need_dpre ? dpre.data<T>() : nullptr,
                        need[1] ? grads[1].data<T>() : nullptr, need[2] ? grads[2].data<T>() : nullptr);
    if (grads[3].defined()) backward_bias(a, in, dpre.data<T>(), grads[3].data<T>());
    return 0;
  });
  return grads;
}

Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? t.detach().contiguous() : Tensor(); }

// ---------------------------------------------------------------- reference

// The full (S, S) score matrix of batch row b, written the obvious way.
template <class T>
void reference_row_scores(const AttnGeometry& a, const AttnInputs<T>& in, const uint8_t* key_mask, int64_t b,
                          std::vector<T>& score) {
  const int64_t S = a.slots;
  bool row_has_valid_key = false;
  for (int64_t j = 0; j < S; ++j) row_has_valid_key = row_has_valid_key || !key_mask || key_mask[b * S + j] == 0;
  const bool unmask_row = !row_has_valid_key && a.activation == AttnActivation::Softmax;
  std::vector<uint8_t> visible(static_cast<size_t>(S * S));
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j < S; ++j) {
      const int64_t d = i - j;
      const bool in_window = a.causal ? (d >= 0 && d <= a.window) : (std::abs(d) <= a.window);
      const bool valid = unmask_row || !key_mask || key_mask[b * S + j] == 0;
      visible[i * S + j] = in_window && valid;
      T pre = T(a.q_scale) * dot(in.q + (b * S + i) * a.zdim, in.k + (b * S + j) * a.zdim, a.zdim);
      if (in.w) pre += in.w[rel_pos_index(a.bias_m, in.pos[b * S + i], in.pos[b * S + j])];
      score[i * S + j] = pre;
    }
  for (int64_t i = 0; i < S; ++i) {
    T* row = score.data() + i * S;
    const uint8_t* vis = visible.data() + i * S;
    if (a.activation == AttnActivation::Relu2) {
      for (int64_t j = 0; j < S; ++j) row[j] = vis[j] ? std::max(row[j], T(0)) * std::max(row[j], T(0)) : T(0);
      continue;
    }
    T max_pre = -std::numeric_limits<T>::infinity(), total = 0;
    for (int64_t j = 0; j < S; ++j)
      if (vis[j]) max_pre = std::max(max_pre, row[j]);
    for (int64_t j = 0; j < S; ++j) {
      row[j] = vis[j] ? std::exp(row[j] - max_pre) : T(0);
      total += row[j];
    }
    for (int64_t j = 0; j < S; ++j) row[j] = total > T(0) ? row[j] / total : T(0);
  }
}

}  // namespace

Tensor local_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                       const Tensor& positions, const Tensor& rel_bias, const LocalAttentionOptions& opt) {
  AttnGeometry geom = check_args(q, k, v, key_mask, positions, rel_bias, opt);
  auto saved = std::make_shared<AttnSaved>();
  saved->geom = geom;
  saved->q = q.detach().contiguous();
  saved->k = k.detach().contiguous();
  saved->v = v.detach().contiguous();
  saved->w = contiguous_or_undefined(rel_bias);
  saved->pos = rel_bias.defined() ? positions.contiguous() : Tensor();
  saved->valid = valid_keys(key_mask, geom);
  saved->weights = empty({geom.batch, geom.slots, geom.width}, q.dtype());
  Tensor out = empty({geom.batch, geom.slots, geom.hdim}, q.dtype());
  dispatch_float(q.dtype(), kOp, [&](auto tag) {
    using T = decltype(tag);
    local_attention_forward(geom, saved->inputs<T>(), saved->weights.data<T>(), out.data<T>());
    return 0;
  });
  if (!any_requires_grad({&q, &k, &v, &rel_bias})) return out;
  return record(kOp, out, {q, k, v, rel_bias}, [saved](const Tensor& g, const std::vector<bool>& need) {
    return local_attention_backward(*saved, g, need);
  });
}

Tensor local_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                                 const Tensor& positions, const Tensor& rel_bias, const LocalAttentionOptions& opt) {
  AttnGeometry a = check_args(q, k, v, key_mask, positions, rel_bias, opt);
  Tensor qc = q.detach().contiguous(), kc = k.detach().contiguous(), vc = v.detach().contiguous();
  Tensor wc = contiguous_or_undefined(rel_bias);
  Tensor pc = rel_bias.defined() ? positions.contiguous() : Tensor();
  Tensor mc = key_mask.defined() ? key_mask.contiguous() : Tensor();
  Tensor out = zeros({a.batch, a.slots, a.hdim}, q.dtype());
  dispatch_float(q.dtype(), "local_attention_reference", [&](auto tag) {
    using T = decltype(tag);
    AttnInputs<T> in{qc.data<T>(), kc.data<T>(), vc.data<T>(), wc.defined() ? wc.data<T>() : nullptr,
                     pc.defined() ? pc.data<int64_t>() : nullptr, nullptr};
    const uint8_t* mask = mc.defined() ? mc.data<uint8_t>() : nullptr;
    const int64_t S = a.slots, H = a.hdim;
    std::vector<T> score(static_cast<size_t>(S * S));
    T* o = out.data<T>();
    for (int64_t b = 0; b < a.batch; ++b) {
      reference_row_scores(a, in, mask, b, score);
      for (int64_t i = 0; i < S; ++i)  // o = score @ v
        for (int64_t j = 0; j < S; ++j)
          for (int64_t h = 0; h < H; ++h) o[(b * S + i) * H + h] += score[i * S + j] * in.v[(b * S + j) * H + h];
    }
    return 0;
  });
  return out;
}

}  // namespace seqboat
