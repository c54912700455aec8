// nn/sampling.h: choosing the next token from a language model's logits:
// greedy, temperature and top-k sampling. Used by `seqboat generate`.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/random.h"

namespace seqboat::nn {

// Picks a token id in [0, V) from logits (one score per vocabulary entry).
//   temperature == 0: greedy: the argmax, the first maximum on ties; gen is
//                     not used.
//   temperature > 0:  with m = max_v logit_v and cut = the top_k-th largest
//                     logit (no cut when top_k == 0 or top_k >= V), draws from
//                       p_v = exp((logit_v - m) / temperature) / Z  if logit_v >= cut,
//                       p_v = 0                                     otherwise,
//                     i.e. softmax(logits / temperature) over the top k
//                     (tokens tied with the k-th largest are all kept).
//                     One u = gen.next_double() per call; the token is the
//                     first v with p_0 + ... + p_v >= u (the last token if
//                     rounding leaves none), so a seed fixes the draw.
// Throws std::invalid_argument for empty logits, a negative (or NaN)
// temperature or a negative top_k; std::runtime_error naming the logit when
// one is NaN or +infinity.
int64_t sample_next_token(const std::vector<double>& logits, double temperature, int64_t top_k, Generator& gen);

}  // namespace seqboat::nn
