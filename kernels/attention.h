// kernels/attention.h: kernels of ops/attention.cpp, the fused local
// attention (window geometry and formulas in ops/attention.cpp).
#pragma once

#include "kernels/common.h"

namespace seqboat::kernels {

enum class AttnActivation { Softmax, Relu2 };

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

// valid (B, S) = 1 - key_mask (all 1 when key_mask is null); for softmax a
// batch row with no valid key at all is made fully valid. Registered under UInt8.
template <class T>
using AttnValidKeysFn = void(const AttnGeometry& a, const uint8_t* key_mask, uint8_t* valid);
// out (B, S, H) and the saved weights (B, S, width): p (softmax) or relu(pre) (relu2).
template <class T>
using LocalAttentionFn = void(const AttnGeometry& a, const AttnInputs<T>& in, T* weights, T* out);
// Gradients from G = d out; dpre (B, S, width) is scratch, needed when any
// of dq, dk, dw is wanted. Null outputs are skipped.
template <class T>
using LocalAttentionBackwardFn = void(const AttnGeometry& a, const AttnInputs<T>& in, const T* weights, const T* G,
                                      T* dpre, T* dq, T* dk, T* dv, T* dw);
// The same forward from the full (S, S) masked score matrix, written the
// obvious way (tests compare against it); in.valid unused, key_mask may be null.
template <class T>
using LocalAttentionReferenceFn = void(const AttnGeometry& a, const AttnInputs<T>& in, const uint8_t* key_mask, T* out);

}  // namespace seqboat::kernels
