// nn/task_heads.h: the pieces around the SeqBoat layers that the official
// task configurations use: absolute positions (ScaledSinusoidal), the
// classifier head (one hidden layer with GELU, as the official LRA and
// Speech Commands models have, built in SeqBoatModel), the pair
// combination of the retrieval task, and GELU itself. All are compositions of
// differentiable ops, so gradcheck of the module proves their backward.
#pragma once

#include "nn/layers.h"

namespace seqboat::nn {

// GELU in its tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// (The erf form, which fairseq's "gelu" uses, differs by less than 1e-3.)
Tensor gelu_tanh(const Tensor& x);

// Absolute positions added to the embeddings: x + scale * E, where
//   E[t, j] = sin(t f_j)          j <  D/2
//   E[t, j] = cos(t f_{j-D/2})    j >= D/2,   f_j = 10000^(-2j / D),
// t = 0, 1, ... the position and `scale` a learned scalar initialised to
// 1/sqrt(D) (the official code's ScaledSinuEmbedding). D must be even.
class ScaledSinusoidal : public Module {
 public:
  ScaledSinusoidal(int64_t dim, DType dt);
  Tensor forward(const Tensor& x) const;  // x (B, L, D)
  Tensor scale;

 private:
  int64_t dim_;
};

// The pair features of two pooled vectors (LRA's "NLI-style" combination):
// concat(u, v, u * v, u - v) along the last dim.
Tensor pair_features(const Tensor& u, const Tensor& v);

}  // namespace seqboat::nn
