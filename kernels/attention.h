// kernels/attention.h: kernels of ops/attention.cpp, the fused local
// attention (window geometry and formulas in ops/attention.cpp).
#pragma once

#include <string_view>

#include "kernels/common.h"
#include "kernels/math.h"
#include "kernels/position.h"

namespace seqboat::kernels {

enum class AttnActivation { Softmax, Relu2 };
// Their names, as configs and the command line spell them, by enum value.
inline constexpr const char* kAttnActivationNames[] = {"softmax", "relu2"};
inline const char* activation_name(AttnActivation a) { return kAttnActivationNames[static_cast<int>(a)]; }
// The activation named `name`; false when there is none.
inline bool parse_activation(std::string_view name, AttnActivation& out) {
  for (int i = 0; i < 2; ++i)
    if (name == kAttnActivationNames[i]) {
      out = static_cast<AttnActivation>(i);
      return true;
    }
  return false;
}

// Checked arguments and the window geometry: query slot i considers the
// `width` key slots j = i - reach + t, t = 0 .. width - 1.
struct AttnGeometry {
  int64_t batch = 0, slots = 0, zdim = 0, hdim = 0;
  int64_t window = 0;  // as given
  int64_t reach = 0;   // min(window, S - 1)
  int64_t width = 1;   // keys per query: reach + 1 (causal) or 2 reach + 1
  int64_t bias_m = 0;  // M of the bias vector (2M - 1 entries), 0 without bias
  bool causal = false;
  AttnActivation activation = AttnActivation::Softmax;
  double q_scale = 1;  // c: 1 / sqrt(Z) (softmax) or 1 / n (relu2)

  SEQBOAT_HOST_DEVICE int64_t key_of(int64_t i, int64_t t) const { return i - reach + t; }
};

// Raw views of the inputs: q, k (B, S, Z) and v (B, S, H), each with its last
// dim contiguous and its slots `*_row` elements apart (slot (b, i) starts at
// (b S + i) row: a narrow view of a wider tensor needs no copy); the bias w
// (2M - 1) and positions (B, S) (both null without bias), and valid (B, S),
// 1 where key slot j may be attended.
template <class T>
struct AttnInputs {
  const T* q = nullptr;
  const T* k = nullptr;
  const T* v = nullptr;
  const T* w = nullptr;
  const int64_t* pos = nullptr;
  const uint8_t* valid = nullptr;
  int64_t q_row = 0, k_row = 0, v_row = 0;
};

// ---- The per-row formulas both backends run (terms as numbered at the top
// of ops/attention.cpp; callable on the host and on the GPU) ----

// Row b of valid: 1 - key_mask (1 without a mask); for softmax a row with no
// valid key at all is made fully valid.
SEQBOAT_HOST_DEVICE inline void valid_keys_row(const AttnGeometry& a, const uint8_t* key_mask, uint8_t* valid,
                                               int64_t b) {
  const int64_t S = a.slots;
  bool any_valid = false;
  for (int64_t j = 0; j < S; ++j) {
    valid[b * S + j] = !key_mask || key_mask[b * S + j] == 0;
    any_valid = any_valid || valid[b * S + j];
  }
  if (!any_valid && a.activation == AttnActivation::Softmax)
    for (int64_t j = 0; j < S; ++j) valid[b * S + j] = 1;
}

// Key slot j of batch row b is visible: 0 <= j < S and valid[b, j].
template <class T>
SEQBOAT_HOST_DEVICE inline bool key_visible(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t j) {
  return j >= 0 && j < a.slots && in.valid[b * a.slots + j];
}

// r(i, j): the bias entry between slots i and j of row b.
template <class T>
SEQBOAT_HOST_DEVICE inline int64_t bias_slot(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i,
                                             int64_t j) {
  return rel_pos_index(a.bias_m, in.pos[b * a.slots + i], in.pos[b * a.slots + j]);
}

// pre_t = c dot + w[r(i, j)], from dot = q_i . k_j (each backend sums the dot
// its own way: Eigen's vector accumulators, or a tile in shared memory).
template <class T>
SEQBOAT_HOST_DEVICE inline T pre_from_dot(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i,
                                          int64_t j, T dot) {
  T pre = static_cast<T>(a.q_scale) * dot;
  if (in.w) pre += in.w[bias_slot(a, in, b, i, j)];
  return pre;
}

// coef_t from the saved weight: p (softmax) or a^2 (relu2).
template <class T>
SEQBOAT_HOST_DEVICE inline T coef_of(const AttnGeometry& a, T weight) {
  return a.activation == AttnActivation::Softmax ? weight : weight * weight;
}

// What a weight slot holds before normalize_row: pre where the key is visible;
// elsewhere -inf (softmax) or 0 (relu2, where relu(pre) is taken in place).
template <class T>
SEQBOAT_HOST_DEVICE inline T masked_pre(const AttnGeometry& a, bool visible, T pre) {
  if (a.activation == AttnActivation::Relu2) return visible ? math_max(pre, T(0)) : T(0);
  return visible ? pre : T(-INFINITY);
}

// The softmax of a row of masked_pre values, in place (all 0 when no key is
// visible); relu2 rows are already final.
template <class T>
SEQBOAT_HOST_DEVICE inline void normalize_row(const AttnGeometry& a, T* p) {
  if (a.activation == AttnActivation::Relu2) return;
  T max_pre = -INFINITY;
  for (int64_t t = 0; t < a.width; ++t) max_pre = math_max(max_pre, p[t]);
  if (max_pre == -INFINITY) {  // no visible key
    for (int64_t t = 0; t < a.width; ++t) p[t] = T(0);
    return;
  }
  T total = 0;
  for (int64_t t = 0; t < a.width; ++t) {
    p[t] = math_exp(p[t] - max_pre);  // exp(-inf) = 0 for keys not visible
    total += p[t];
  }
  for (int64_t t = 0; t < a.width; ++t) p[t] /= total;
}

// dpre of one query row from dcoef_t = G_i . v_j, in place: terms 1 and 2
// (softmax) or 2 a_t dcoef_t (relu2).
template <class T>
SEQBOAT_HOST_DEVICE inline void dpre_from_dcoef(const AttnGeometry& a, const T* wrow, T* drow) {
  if (a.activation == AttnActivation::Softmax) {
    T p_dcoef = 0;  // sum_t' p_t' dcoef_t'
    for (int64_t t = 0; t < a.width; ++t) p_dcoef += wrow[t] * drow[t];
    for (int64_t t = 0; t < a.width; ++t) drow[t] = wrow[t] * drow[t] - wrow[t] * p_dcoef;
  } else {
    for (int64_t t = 0; t < a.width; ++t) drow[t] = T(2) * wrow[t] * drow[t];
  }
}

// valid (B, S) = 1 - key_mask (all 1 when key_mask is null); for softmax a
// batch row with no valid key at all is made fully valid.
using AttnValidKeysFn = void(const AttnGeometry& a, const uint8_t* key_mask, uint8_t* valid);
// out (B, S, H) and the saved weights (B, S, width): p (softmax) or relu(pre) (relu2).
template <class T>
using LocalAttentionFn = void(const AttnGeometry& a, const AttnInputs<T>& in, T* weights, T* out);
// Gradients from G = d out; dpre (B, S, width) is scratch, needed when any
// of dq, dk, dw is wanted. Null outputs are skipped.
template <class T>
using LocalAttentionBackwardFn = void(const AttnGeometry& a, const AttnInputs<T>& in, const T* weights, const T* G,
                                      T* dpre, T* dq, T* dk, T* dv, T* dw);

}  // namespace seqboat::kernels

// The kernel table's rows of this family (kernels/table.h): K a typed
// kernel (a slot per element type), U an untyped one.
#define SEQBOAT_KERNELS_attention(K, U)                               \
  U(attention, attention_valid_keys, AttnValidKeysFn)                 \
  K(attention, local_attention_forward, LocalAttentionFn)             \
  K(attention, local_attention_backward, LocalAttentionBackwardFn)
