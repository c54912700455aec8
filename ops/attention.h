// ops/attention.h: SeqBoat's local (sliding-window) attention over slot
// indices (docs/semantics.md section 3 step 7), fused, with a hand-written backward
// (formulas, term by term, in ops/attention.cpp).
//
//   local_attention(q, k, v, key_mask, positions, rel_bias, {window, causal, activation})
//       q, k: (B, S, Z)   v: (B, S, H)   -> o: (B, S, H)
//
// Visibility: query slot i sees key slot j iff
//     |i - j| <= window (bidirectional)  or  0 <= i - j <= window (causal),
//     and key j is valid (key_mask[b, j] == 0).
// Bias (optional, the `simple` relative-position bias w of length 2M - 1):
//     bias(i, j) = w[clamp(M - 1 + pos[b, j] - pos[b, i], 0, 2M - 2)]
//     with pos = positions, the slots' ORIGINAL token positions.
// Softmax: logit_ij = (q_i . k_j) / sqrt(Z) + bias(i, j) over visible keys,
//     o_i = sum_j softmax_j(logit_i) v_j.
//     A batch row with no valid key at all is treated as unmasked (every key in
//     the window visible), as the reference does. A query that still sees no
//     key (all keys of its window invalid; its output is never used by the
//     layer) outputs 0 and passes zero gradient. (The reference fills masked
//     logits with -5e4 instead of -inf: identical whenever a key is visible,
//     since exp(-5e4 - max) underflows to exactly 0; for a query with no
//     visible key it averages its whole look-around block instead of giving 0.)
// Relu2: score_ij = relu((q_i / n) . k_j + bias(i, j))^2, n = window (causal)
//     or 2 window (bidirectional); keys that are not visible score 0;
//     o_i = sum_j score_ij v_j. relu'(0) := 0. Needs window >= 1.
//
// Memory is O(B S window): no S x S matrix is built. The window is clipped to
// the sequence, so window > S is fine.
//
// Typical use (one SeqBoat layer, compressed sequence of S slots):
//   Tensor o = local_attention(qv, kv, v, key_mask, plan.slot_index, rel_pos_w,
//                              {window, causal, AttnActivation::Relu2});
#pragma once

#include <cstdint>

#include "kernels/attention.h"
#include "tensor/tensor.h"

namespace seqboat {

using kernels::AttnActivation;

struct LocalAttentionOptions {
  int64_t window = 0;  // >= 0; >= 1 for Relu2
  bool causal = false;
  AttnActivation activation = AttnActivation::Softmax;
};

// key_mask: (B, S) UInt8, 1 = invalid key slot, or undefined (all valid).
// positions: (B, S) Int64 original positions; needed only with rel_bias.
// rel_bias: (2M - 1) with q's dtype, or undefined (no bias).
Tensor local_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                       const Tensor& positions, const Tensor& rel_bias, const LocalAttentionOptions& opt);

}  // namespace seqboat
