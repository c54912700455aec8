// kernels/position.h: kernels of ops/position.cpp: rotary embedding and
// the relative-position bias (formulas in ops/position.cpp).
#pragma once

#include <cmath>

#include "kernels/common.h"

namespace seqboat::kernels {

// Index into the (2M - 1) relative-position bias vector for a query at
// original position pos_q and a key at pos_k: offsets beyond +-(M-1) reuse
// the end values.
SEQBOAT_HOST_DEVICE inline int64_t rel_pos_index(int64_t M, int64_t pos_q, int64_t pos_k) {
  const int64_t r = M - 1 + pos_k - pos_q;
  return r < 0 ? 0 : (r > 2 * M - 2 ? 2 * M - 2 : r);
}

// The angle of pair m per unit of position: freq[m] = 10000^(-2m/Z).
SEQBOAT_HOST_DEVICE inline double rotary_frequency(int64_t m, int64_t Z) {
  return ::pow(10000.0, -2.0 * static_cast<double>(m) / static_cast<double>(Z));
}

// One pair rotated by theta, (x0 + i x1) e^{i theta} (ops/position.cpp):
//   out[0] = x0 cos theta - x1 sin theta,  out[1] = x0 sin theta + x1 cos theta
template <class T>
SEQBOAT_HOST_DEVICE inline void rotate_pair(const T* x, double theta, T* out) {
  const T c = static_cast<T>(::cos(theta)), s = static_cast<T>(::sin(theta));
  const T x0 = x[0], x1 = x[1];
  out[0] = x0 * c - x1 * s;
  out[1] = x0 * s + x1 * c;
}

// out = x with every pair (2m, 2m+1) of each of `rows` rows of Z rotated by
// sign * positions[row] * 10000^(-2m/Z) (sign -1: the backward).
template <class T>
using RotaryFn = void(int64_t rows, int64_t Z, double sign, const int64_t* positions, const T* x, T* out);
// out[b,i,j] = w[rel_pos_index(M, pq[b,i], pk[b,j])], out (B, S, Tk).
template <class T>
using RelPosBiasGatherFn = void(int64_t B, int64_t S, int64_t Tk, int64_t M, const T* w, const int64_t* pq,
                                const int64_t* pk, T* out);
// dw (2M - 1) = 0, then dw[r] += g[b,i,j] in (b, i, j) order.
template <class T>
using RelPosBiasGatherBackwardFn = void(int64_t B, int64_t S, int64_t Tk, int64_t M, const T* g, const int64_t* pq,
                                        const int64_t* pk, T* dw);

}  // namespace seqboat::kernels

// The kernel table's rows of this family (kernels/table.h).
#define SEQBOAT_KERNELS_position(K, U)                                   \
  K(position, rotary, RotaryFn)                                          \
  K(position, rel_pos_bias_gather_forward, RelPosBiasGatherFn)           \
  K(position, rel_pos_bias_gather_backward, RelPosBiasGatherBackwardFn)
