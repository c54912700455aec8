// ops/position.h: the position encodings of the attention unit
// (docs/semantics.md section 2), each with a hand-written backward (formulas in
// ops/position.cpp):
//   rotary(x, positions) -> (B, S, Z): pairs (x[2m], x[2m+1]) rotated by pos * 10000^(-2m/Z)
//   rel_pos_bias_gather(w, pos_q, pos_k) -> (B, S, T): w[rel_pos_index(M, pos_q[i], pos_k[j])]
#pragma once

#include <cstdint>

#include "kernels/position.h"
#include "tensor/tensor.h"

namespace seqboat {

using kernels::rel_pos_index;

// x: (B, S, Z), Z even, any strides; positions: (B, S) Int64, the tokens'
// original positions. Returns a contiguous (B, S, Z).
Tensor rotary(const Tensor& x, const Tensor& positions);

// w: (2M - 1); pos_q: (B, S), pos_k: (B, T) Int64. Returns (B, S, T) with
// out[b,i,j] = w[rel_pos_index(M, pos_q[b,i], pos_k[b,j])].
Tensor rel_pos_bias_gather(const Tensor& w, const Tensor& pos_q, const Tensor& pos_k);

}  // namespace seqboat
