// nn/generation.h: text generation from a SeqBoat language model, with the
// incremental decoder (nn/decoding.h: constant work per token, the whole
// history in its state) or, as a check, the full forward recomputed over
// the whole history for every token (work growing with the position).
// Both see the same history and give the same logits (to rounding), so a
// greedy run (temperature 0) prints the same text either way.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "nn/seqboat.h"

namespace seqboat::nn {

struct GenerateOptions {
  int64_t tokens = 200;      // tokens to generate
  double temperature = 0.8;  // 0: greedy (see nn/sampling.h)
  int64_t top_k = 40;        // 0: no cut
  uint64_t seed = 0;         // the sampler's generator
  bool cache = true;         // false: full recompute per token
};

// Generates opt.tokens tokens after `prompt` (at least one token); calls
// `on_token` with each as it is chosen; returns them. Eval mode, no graph.
std::vector<int64_t> generate(SeqBoatLM& lm, const std::vector<int64_t>& prompt, const GenerateOptions& opt,
                              const std::function<void(int64_t)>& on_token = {});

}  // namespace seqboat::nn
