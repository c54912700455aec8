// cuda/attention_impl.h: CUDA kernels of ops/attention.cpp, the fused local
// attention (ops/kernels/attention.h), over an executor (cuda/exec.h). The
// window geometry and every formula are at the top of ops/attention.cpp; the
// memory is O(B S window), never an S x S matrix.
//
// Work items: forward, one per query row (b, i) for its weights, then one per
// output element (b, i, h); backward, one per query row for dpre (the softmax
// or relu2 Jacobian of the row), one per element of dq, of dk and of dv (each
// summing its window in order), and the bias gradient per batch row, then per
// bias entry over the batch rows in order.
#pragma once

#include "cuda/exec.h"
#include "ops/kernels/attention.h"
#include "ops/kernels/ssm.h"
#include "ops/kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::AttnActivation;
using kernels::AttnGeometry;
using kernels::AttnInputs;

template <class T>
SEQBOAT_HOST_DEVICE inline bool key_visible(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t j) {
  return j >= 0 && j < a.slots && in.valid[b * a.slots + j];
}

template <class T>
SEQBOAT_HOST_DEVICE inline int64_t bias_slot(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i,
                                             int64_t j) {
  return kernels::rel_pos_index(a.bias_m, in.pos[b * a.slots + i], in.pos[b * a.slots + j]);
}

// pre = c (q_i . k_j) + w[r(i, j)]
template <class T>
SEQBOAT_HOST_DEVICE inline T pre_activation(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i,
                                            int64_t j) {
  const T* q = in.q + (b * a.slots + i) * in.q_row;
  const T* k = in.k + (b * a.slots + j) * in.k_row;
  T dot = 0;
  for (int64_t z = 0; z < a.zdim; ++z) dot += q[z] * k[z];
  T pre = static_cast<T>(a.q_scale) * dot;
  if (in.w) pre += in.w[bias_slot(a, in, b, i, j)];
  return pre;
}

template <class T>
SEQBOAT_HOST_DEVICE inline T coef_of(const AttnGeometry& a, T weight) {
  return a.activation == AttnActivation::Softmax ? weight : weight * weight;
}

// The weights of query row (b, i): softmax p over the visible keys (all 0 when
// none is visible), or relu(pre) for relu2 (0 where not visible).
template <class T>
SEQBOAT_HOST_DEVICE inline void weights_row(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i,
                                            T* p) {
  if (a.activation == AttnActivation::Relu2) {
    for (int64_t t = 0; t < a.width; ++t) {
      const int64_t j = a.key_of(i, t);
      p[t] = key_visible(a, in, b, j) ? math_max(pre_activation(a, in, b, i, j), T(0)) : T(0);
    }
    return;
  }
  T max_pre = -INFINITY;
  for (int64_t t = 0; t < a.width; ++t) {
    const int64_t j = a.key_of(i, t);
    p[t] = key_visible(a, in, b, j) ? pre_activation(a, in, b, i, j) : -INFINITY;
    max_pre = math_max(max_pre, p[t]);
  }
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

template <class Exec, class T>
void attention_valid_keys(Exec& ex, const AttnGeometry& a, const uint8_t* m, uint8_t* ok) {
  const int64_t S = a.slots;
  const bool softmax = a.activation == AttnActivation::Softmax;
  ex.for_each(a.batch, [=] SEQBOAT_HOST_DEVICE(int64_t b) {
    bool any_valid = false;
    for (int64_t j = 0; j < S; ++j) {
      ok[b * S + j] = !m || m[b * S + j] == 0;
      any_valid = any_valid || ok[b * S + j];
    }
    if (!any_valid && softmax)
      for (int64_t j = 0; j < S; ++j) ok[b * S + j] = 1;
  });
}

template <class Exec, class T>
void local_attention_forward(Exec& ex, const AttnGeometry& a, const AttnInputs<T>& in, T* weights, T* out) {
  const int64_t S = a.slots, H = a.hdim, width = a.width;
  ex.for_each(a.batch * S,
              [=] SEQBOAT_HOST_DEVICE(int64_t bi) { weights_row(a, in, bi / S, bi % S, weights + bi * width); });
  ex.for_each(a.batch * S * H, [=] SEQBOAT_HOST_DEVICE(int64_t e) {  // o_i = sum_t coef_t v_j
    const int64_t h = e % H, bi = e / H, b = bi / S, i = bi % S;
    const T* wrow = weights + bi * width;
    T acc = 0;
    for (int64_t t = 0; t < width; ++t) {
      const T coef = coef_of(a, wrow[t]);
      if (coef != T(0)) acc += coef * in.v[(b * S + a.key_of(i, t)) * in.v_row + h];
    }
    out[e] = acc;
  });
}

template <class Exec, class T>
void local_attention_backward(Exec& ex, const AttnGeometry& a, const AttnInputs<T>& in, const T* weights, const T* G,
                              T* dpre, T* dq, T* dk, T* dv, T* dw) {
  const int64_t B = a.batch, S = a.slots, Z = a.zdim, H = a.hdim, width = a.width, reach = a.reach;
  const T c = static_cast<T>(a.q_scale);
  if (dpre)
    ex.for_each(B * S, [=] SEQBOAT_HOST_DEVICE(int64_t bi) {
      const int64_t b = bi / S, i = bi % S;
      const T* wrow = weights + bi * width;
      T* drow = dpre + bi * width;
      const T* g = G + bi * H;
      for (int64_t t = 0; t < width; ++t) {  // dcoef_t = G_i . v_j where the weight is nonzero
        T dot = 0;
        if (wrow[t] != T(0)) {
          const T* v = in.v + (b * S + a.key_of(i, t)) * in.v_row;
          for (int64_t h = 0; h < H; ++h) dot += g[h] * v[h];
        }
        drow[t] = dot;
      }
      if (a.activation == AttnActivation::Softmax) {
        T p_dcoef = 0;
        for (int64_t t = 0; t < width; ++t) p_dcoef += wrow[t] * drow[t];
        for (int64_t t = 0; t < width; ++t) drow[t] = wrow[t] * drow[t] - wrow[t] * p_dcoef;  // terms 1 and 2
      } else {
        for (int64_t t = 0; t < width; ++t) drow[t] = T(2) * wrow[t] * drow[t];
      }
    });
  if (dq)  // term 3: dq_i = c sum_t dpre_t k_j
    ex.for_each(B * S * Z, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
      const int64_t z = e % Z, bi = e / Z, b = bi / S, i = bi % S;
      T acc = 0;
      for (int64_t t = 0; t < width; ++t) {
        const T d = dpre[bi * width + t];
        if (d != T(0)) acc += c * d * in.k[(b * S + a.key_of(i, t)) * in.k_row + z];
      }
      dq[e] = acc;
    });
  if (dk)  // term 4: dk_j = c sum over queries i = j + reach - t of dpre_t q_i
    ex.for_each(B * S * Z, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
      const int64_t z = e % Z, bj = e / Z, b = bj / S, j = bj % S;
      T acc = 0;
      for (int64_t t = 0; t < width; ++t) {
        const int64_t i = j + reach - t;
        if (i < 0 || i >= S) continue;
        const T d = dpre[(b * S + i) * width + t];
        if (d != T(0)) acc += c * d * in.q[(b * S + i) * in.q_row + z];
      }
      dk[e] = acc;
    });
  if (dv)  // term 5: dv_j = sum over the same (i, t) of coef_t G_i
    ex.for_each(B * S * H, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
      const int64_t h = e % H, bj = e / H, b = bj / S, j = bj % S;
      T acc = 0;
      for (int64_t t = 0; t < width; ++t) {
        const int64_t i = j + reach - t;
        if (i < 0 || i >= S) continue;
        const T coef = coef_of(a, weights[(b * S + i) * width + t]);
        if (coef != T(0)) acc += coef * G[(b * S + i) * H + h];
      }
      dv[e] = acc;
    });
  if (dw) {  // term 6: dw[r] += dpre_t for r = r(i, j): per batch row in (i, t) order, then over rows in order
    const int64_t R = 2 * a.bias_m - 1;
    auto partial = ex.template scratch<T>(B * R);
    T* part = partial.get();
    ex.for_each(B, [=] SEQBOAT_HOST_DEVICE(int64_t b) {
      T* pb = part + b * R;
      for (int64_t r = 0; r < R; ++r) pb[r] = T(0);
      for (int64_t i = 0; i < S; ++i)
        for (int64_t t = 0; t < width; ++t) {
          const int64_t j = a.key_of(i, t);
          const T d = dpre[(b * S + i) * width + t];
          if (j >= 0 && j < S && d != T(0)) pb[bias_slot(a, in, b, i, j)] += d;
        }
    });
    ex.for_each(R, [=] SEQBOAT_HOST_DEVICE(int64_t r) {
      T acc = 0;
      for (int64_t b = 0; b < B; ++b) acc += part[b * R + r];
      dw[r] = acc;
    });
  }
}

// The attention kernels of executor Exec, for the kernel table.
template <class Exec, class T>
void fill_attention_kernels(kernels::TypedKernels<T>& k) {
  k.local_attention_forward = &Bound<&local_attention_forward<Exec, T>>::call;
  k.local_attention_backward = &Bound<&local_attention_backward<Exec, T>>::call;
}

template <class Exec>
void add_attention_kernels(kernels::BackendKernels& k) {
  fill_attention_kernels<Exec>(k.f32);
  fill_attention_kernels<Exec>(k.f64);
  k.u8.attention_valid_keys = &Bound<&attention_valid_keys<Exec, uint8_t>>::call;
}

}  // namespace seqboat::cuda::impl
