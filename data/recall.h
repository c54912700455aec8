// Associative-recall task: k1 v1 ... kn vn SEP q, label = the value paired
// with query key q. Deterministic for a (config seed, call seed) pair.
#pragma once

#include <cstdint>
#include <vector>

#include "data/example.h"

namespace seqboat::data {

// Token ids: 0 = PAD, 1 = SEP, keys 2 .. 2+n_keys-1, values n_keys+2 ..
// n_keys+2+n_values-1. The label is the value index 0..n_values-1 (the
// value's token id minus recall_value_base(cfg)).
struct RecallConfig {
  int n_pairs = 8;
  int n_keys = 16;
  int n_values = 16;
  int seq_len = 0;  // 0 = derived (2*n_pairs + 2); larger pads with PAD at the end
  uint64_t seed = 1;
};

constexpr int32_t kRecallPad = 0;
constexpr int32_t kRecallSep = 1;
constexpr int32_t kRecallKeyBase = 2;

inline int32_t recall_value_base(const RecallConfig& cfg) { return kRecallKeyBase + cfg.n_keys; }
int recall_vocab(const RecallConfig& cfg);    // 2 + n_keys + n_values
int recall_seq_len(const RecallConfig& cfg);  // effective sequence length
int recall_classes(const RecallConfig& cfg);  // n_values

// n examples; the stream depends on both cfg.seed and seed (use different
// `seed`s for train/val/test). Throws std::invalid_argument on a bad config
// (n_pairs < 1, n_pairs > n_keys, n_values < 1, seq_len too short, n < 0).
std::vector<SeqExample> make_recall(const RecallConfig& cfg, int n, uint64_t seed);

}  // namespace seqboat::data
