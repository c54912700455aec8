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
#include <vector>

#include "cpu/backend.h"

namespace seqboat::cpu {

namespace {

using kernels::AttnGeometry;
using kernels::AttnInputs;

constexpr int64_t kParallelMacs = 1 << 15;  // multiply-adds below which loops stay serial

bool parallel(const AttnGeometry& a) { return a.batch * a.slots * a.width * (a.zdim + a.hdim) > kParallelMacs; }

void attention_valid_keys(const AttnGeometry& a, const uint8_t* m, uint8_t* ok) {
  for (int64_t b = 0; b < a.batch; ++b) kernels::valid_keys_row(a, m, ok, b);
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

// The weights of query row (b, i): p (softmax) or a = relu(pre) (relu2) over
// the visible keys, 0 elsewhere.
template <class T>
void weights_row(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i, T* row) {
  const int64_t S = a.slots;
  const T* q = in.q + (b * S + i) * in.q_row;
  for (int64_t t = 0; t < a.width; ++t) {
    const int64_t j = a.key_of(i, t);
    const bool visible = kernels::key_visible(a, in, b, j);
    T pre = 0;
    if (visible) pre = kernels::pre_from_dot(a, in, b, i, j, dot(q, in.k + (b * S + j) * in.k_row, a.zdim));
    row[t] = kernels::masked_pre(a, visible, pre);
  }
  kernels::normalize_row(a, row);
}

template <class T>
void local_attention_forward(const AttnGeometry& a, const AttnInputs<T>& in, T* weights, T* out) {
  const int64_t B = a.batch, S = a.slots, H = a.hdim;
#pragma omp parallel for collapse(2) schedule(static) if (parallel(a))
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < S; ++i) {
      T* wrow = weights + (b * S + i) * a.width;
      weights_row(a, in, b, i, wrow);
      T* o = out + (b * S + i) * H;
      std::fill(o, o + H, T(0));
      for (int64_t t = 0; t < a.width; ++t) {
        const T coef = kernels::coef_of(a, wrow[t]);
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
      kernels::dpre_from_dcoef(a, wrow, drow);
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
        const T coef = kernels::coef_of(a, weights[it]);
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
        if (j >= 0 && j < a.slots && d != T(0)) dw[kernels::bias_slot(a, in, b, i, j)] += d;
      }
}

template <class T>
void local_attention_backward(const AttnGeometry& a, const AttnInputs<T>& in, const T* weights, const T* G, T* dpre,
                              T* dq, T* dk, T* dv, T* dw) {
  if (dpre) backward_query_rows(a, in, weights, G, dpre, dq);
  if (dk || dv) backward_key_rows(a, in, weights, G, dpre, dk, dv);
  if (dw) backward_bias(a, in, dpre, dw);
}

}  // namespace

void add_attention_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.local_attention_forward = local_attention_forward<T>;
    t.local_attention_backward = local_attention_backward<T>;
  });
  k.untyped.attention_valid_keys = attention_valid_keys;
}

}  // namespace seqboat::cpu
