// nn/generation.cpp: see generation.h.
#include "nn/generation.h"

#include "autograd/autograd.h"
#include "nn/decoding.h"
#include "nn/sampling.h"

namespace seqboat::nn {

namespace {

// The logits of the last position of `history` by the full forward.
std::vector<double> full_forward_last(SeqBoatLM& lm, const std::vector<int64_t>& history) {
  const int64_t L = static_cast<int64_t>(history.size());
  DropoutRng none;  // eval mode: dropout draws nothing
  Tensor logits = lm.forward(from_vector_i64(history, {1, L}).to(lm.embed->weight.device()), none);  // (1, L, V)
  return logits.narrow(1, L - 1, 1).to_vector();
}

}  // namespace

std::vector<int64_t> generate(SeqBoatLM& lm, const std::vector<int64_t>& prompt, const GenerateOptions& opt,
                              const std::function<void(int64_t)>& on_token) {
  if (prompt.empty()) fail("generate: the prompt must hold at least one token");
  if (opt.tokens < 0) fail("generate: the number of tokens must be >= 0");
  NoGradGuard no_grad;
  lm.eval();
  Generator gen(opt.seed);
  std::vector<int64_t> out;
  if (opt.tokens == 0) return out;
  std::vector<double> logits;
  std::vector<int64_t> history;  // the full recompute's input
  LMDecoder decoder(lm);
  if (opt.cache) {
    Tensor pre = decoder.prefill(prompt);
    logits = pre.narrow(0, pre.size(0) - 1, 1).to_vector();
  } else {
    history = prompt;
    logits = full_forward_last(lm, history);
  }
  for (int64_t i = 0; i < opt.tokens; ++i) {
    const int64_t next = sample_next_token(logits, opt.temperature, opt.top_k, gen);
    out.push_back(next);
    if (on_token) on_token(next);
    if (i + 1 == opt.tokens) break;
    if (opt.cache) {
      logits = decoder.step(next).to_vector();
    } else {
      history.push_back(next);
      logits = full_forward_last(lm, history);
    }
  }
  return out;
}

}  // namespace seqboat::nn
