// cpu/attention.cpp: CPU kernels of ops/attention.cpp, the fused local
// attention (window geometry and the forward/backward formulas, term by
// term, are at the top of ops/attention.cpp).
//
// Threads: the forward and dq run in parallel over query rows (b, i); dk and
// dv in parallel over key rows (b, j), each summing its (i, t) pairs in a fixed
// order; dw is a serial scatter-add in (b, i, t) order. Every output element is
// written by one thread in a fixed order: results do not depend on threads.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cpu/families.h"
#include "kernels/ssm.h"

namespace seqboat::cpu {

namespace {

using kernels::AttnActivation;
using kernels::AttnGeometry;
using kernels::AttnInputs;
using kernels::rel_pos_index;

constexpr int64_t kParallelMacs = 1 << 15;  // multiply-adds below which loops stay serial

bool parallel(const AttnGeometry& a) { return a.batch * a.slots * a.width * (a.zdim + a.hdim) > kParallelMacs; }

// (B, S) UInt8, 1 where key slot j is valid: 1 - key_mask, with the softmax
// rule that a batch row without any valid key is made fully valid.
template <class T>
void attention_valid_keys(const AttnGeometry& a, const uint8_t* m, uint8_t* ok) {
  const int64_t B = a.batch, S = a.slots;
  if (!m) {
    std::fill(ok, ok + B * S, uint8_t{1});
    return;
  }
  for (int64_t b = 0; b < B; ++b) {
    bool any_valid = false;
    for (int64_t j = 0; j < S; ++j) {
      ok[b * S + j] = m[b * S + j] == 0;
      any_valid = any_valid || ok[b * S + j];
    }
    if (!any_valid && a.activation == AttnActivation::Softmax) std::fill(ok + b * S, ok + (b + 1) * S, uint8_t{1});
  }
}

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
  T pre = T(a.q_scale) * dot(in.q + (b * S + i) * in.q_row, in.k + (b * S + j) * in.k_row, Z);
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
#pragma omp parallel for collapse(2) schedule(static) if (parallel(a))
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < S; ++i) {
      T* wrow = weights + (b * S + i) * a.width;
      if (a.activation == AttnActivation::Softmax) softmax_row(a, in, b, i, wrow);
      else relu2_row(a, in, b, i, wrow);
      T* o = out + (b * S + i) * H;
      std::fill(o, o + H, T(0));
      for (int64_t t = 0; t < a.width; ++t) {
        const T coef = coef_of(a, wrow[t]);
        if (coef != T(0)) axpy(coef, in.v + (b * S + a.key_of(i, t)) * in.v_row, o, H);
      }
    }
}

// dpre (B, S, width) and dq, per query row.
template <class T>
void backward_query_rows(const AttnGeometry& a, const AttnInputs<T>& in, const T* weights, const T* G, T* dpre, T* dq) {
  const int64_t B = a.batch, S = a.slots, Z = a.zdim, H = a.hdim;
#pragma omp parallel for collapse(2) schedule(static) if (parallel(a))
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < S; ++i) {
      const T* wrow = weights + (b * S + i) * a.width;
      T* drow = dpre + (b * S + i) * a.width;
      const T* g = G + (b * S + i) * H;
      for (int64_t t = 0; t < a.width; ++t)  // dcoef_t = G_i . v_j (needed only where the weight is nonzero)
        drow[t] = wrow[t] != T(0) ? dot(g, in.v + (b * S + a.key_of(i, t)) * in.v_row, H) : T(0);
      if (a.activation == AttnActivation::Softmax) {
        T p_dcoef = 0;  // sum_t' p_t' dcoef_t'
        for (int64_t t = 0; t < a.width; ++t) p_dcoef += wrow[t] * drow[t];
        for (int64_t t = 0; t < a.width; ++t)
          drow[t] = wrow[t] * drow[t]     // term 1: direct path through exp(pre_t)
                    - wrow[t] * p_dcoef;  // term 2: path through the normaliser
      } else {
        for (int64_t t = 0; t < a.width; ++t) drow[t] = T(2) * wrow[t] * drow[t];  // d(a^2)/dpre = 2 relu(pre)
      }
      if (!dq) continue;
      T* dqi = dq + (b * S + i) * Z;
      std::fill(dqi, dqi + Z, T(0));
      for (int64_t t = 0; t < a.width; ++t)  // term 3: dq_i = c sum_t dpre_t k_j
        if (drow[t] != T(0)) axpy(T(a.q_scale) * drow[t], in.k + (b * S + a.key_of(i, t)) * in.k_row, dqi, Z);
    }
}

// dk and dv, per key row j: the queries that see key j through window offset t
// are i = j + reach - t.
template <class T>
void backward_key_rows(const AttnGeometry& a, const AttnInputs<T>& in, const T* weights, const T* G, const T* dpre,
                       T* dk, T* dv) {
  const int64_t B = a.batch, S = a.slots, Z = a.zdim, H = a.hdim;
#pragma omp parallel for collapse(2) schedule(static) if (parallel(a))
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
          axpy(T(a.q_scale) * dpre[it], in.q + (b * S + i) * in.q_row, dkj, Z);
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

template <class T>
void local_attention_backward(const AttnGeometry& a, const AttnInputs<T>& in, const T* weights, const T* G, T* dpre,
                              T* dq, T* dk, T* dv, T* dw) {
  if (dpre) backward_query_rows(a, in, weights, G, dpre, dq);
  if (dk || dv) backward_key_rows(a, in, weights, G, dpre, dk, dv);
  if (dw) backward_bias(a, in, dpre, dw);
}

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
      T pre = T(a.q_scale) * dot(in.q + (b * S + i) * in.q_row, in.k + (b * S + j) * in.k_row, a.zdim);
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

template <class T>
void local_attention_reference(const AttnGeometry& a, const AttnInputs<T>& in, const uint8_t* mask, T* o) {
  const int64_t S = a.slots, H = a.hdim;
  std::vector<T> score(static_cast<size_t>(S * S));
  std::fill(o, o + a.batch * S * H, T(0));
  for (int64_t b = 0; b < a.batch; ++b) {
    reference_row_scores(a, in, mask, b, score);
    for (int64_t i = 0; i < S; ++i)  // o = score @ v
      for (int64_t j = 0; j < S; ++j)
        for (int64_t h = 0; h < H; ++h) o[(b * S + i) * H + h] += score[i * S + j] * in.v[(b * S + j) * in.v_row + h];
  }
}

template <class T>
void fill(kernels::TypedKernels<T>& k) {
  k.local_attention_forward = local_attention_forward<T>;
  k.local_attention_backward = local_attention_backward<T>;
  k.local_attention_reference = local_attention_reference<T>;
}

}  // namespace

void add_attention_kernels(kernels::BackendKernels& k) {
  fill(k.f32);
  fill(k.f64);
  k.u8.attention_valid_keys = attention_valid_keys<uint8_t>;
}

}  // namespace seqboat::cpu
