// Associative-recall example generator (see recall.h for the layout).
#include "data/recall.h"

#include <fmt/format.h>

#include <numeric>
#include <random>
#include <stdexcept>
#include <utility>

#include "tensor/tensor.h"

namespace seqboat::data {

namespace {

void validate(const RecallConfig& c) {
  if (c.n_pairs < 1) fail(fmt::format("recall: n_pairs must be >= 1 (got {})", c.n_pairs));
  if (c.n_keys < c.n_pairs)
    fail(
        fmt::format("recall: n_keys ({}) must be >= n_pairs ({}) for distinct keys", c.n_keys, c.n_pairs));
  if (c.n_values < 1) fail(fmt::format("recall: n_values must be >= 1 (got {})", c.n_values));
  const int derived = 2 * c.n_pairs + 2;
  if (c.seq_len != 0 && c.seq_len < derived)
    fail(fmt::format("recall: seq_len {} is shorter than 2*n_pairs+2 = {}", c.seq_len, derived));
}

}  // namespace

int recall_vocab(const RecallConfig& cfg) { return kRecallKeyBase + cfg.n_keys + cfg.n_values; }

int recall_seq_len(const RecallConfig& cfg) { return cfg.seq_len ? cfg.seq_len : 2 * cfg.n_pairs + 2; }

int recall_classes(const RecallConfig& cfg) { return cfg.n_values; }

std::vector<SeqExample> make_recall(const RecallConfig& cfg, int n, uint64_t seed) {
  validate(cfg);
  if (n < 0) fail(fmt::format("recall: n must be >= 0 (got {})", n));
  uint64_t mix = cfg.seed;
  mix = splitmix64(mix) ^ seed;
  std::mt19937_64 rng(splitmix64(mix));

  const int len = recall_seq_len(cfg);
  const int32_t vbase = recall_value_base(cfg);
  // Partial Fisher-Yates from the identity permutation: the first n_pairs
  // entries become distinct keys. The swaps are undone after each example
  // (instead of refilling all n_keys entries), so the work per example is
  // O(n_pairs) whatever the key vocabulary; the draws are the same.
  std::vector<int32_t> keys(static_cast<size_t>(cfg.n_keys));
  std::iota(keys.begin(), keys.end(), 0);
  std::vector<int> swapped(static_cast<size_t>(cfg.n_pairs));
  std::vector<SeqExample> out(static_cast<size_t>(n));
  for (auto& ex : out) {
    for (int i = 0; i < cfg.n_pairs; ++i) {
      const int j = i + static_cast<int>(uniform_below(rng, static_cast<uint64_t>(cfg.n_keys - i)));
      std::swap(keys[i], keys[j]);
      swapped[i] = j;
    }
    ex.tokens.assign(static_cast<size_t>(len), kRecallPad);
    std::vector<int> values(static_cast<size_t>(cfg.n_pairs));
    for (int i = 0; i < cfg.n_pairs; ++i) {
      values[i] = static_cast<int>(uniform_below(rng, static_cast<uint64_t>(cfg.n_values)));
      ex.tokens[2 * i] = kRecallKeyBase + keys[i];
      ex.tokens[2 * i + 1] = vbase + values[i];
    }
    const int q = static_cast<int>(uniform_below(rng, static_cast<uint64_t>(cfg.n_pairs)));
    ex.tokens[2 * cfg.n_pairs] = kRecallSep;
    ex.tokens[2 * cfg.n_pairs + 1] = kRecallKeyBase + keys[q];
    ex.label = values[q];
    for (int i = cfg.n_pairs - 1; i >= 0; --i) std::swap(keys[i], keys[swapped[i]]);  // back to the identity
  }
  return out;
}

}  // namespace seqboat::data
