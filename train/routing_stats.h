// train/routing_stats.h: how much of each sequence a SeqBoat layer's router
// (Sparse Modular Activation) sends through attention, and how far that
// attention reaches. Plain host data in (active masks as std::vector<bool>),
// numbers out. Used by the trainer (per-batch density in metrics.jsonl), by
// `seqboat inspect` (LayerStats over a data set) and by the report heatmap.
#pragma once

#include <cstddef>
#include <vector>

namespace seqboat::train {

// Per-layer routing statistics (typically averaged over a data set):
// `density` = share of non-padding tokens that are active (0..1), and
// `mean_span` = mean_attention_span() (in original token positions).
struct LayerStats {
  double density = 0;
  double mean_span = 0;
};

// Active and real (non-padding) token counts; density = active / real, and 0
// when there is no real token.
struct ActiveCount {
  double active = 0, real = 0;
  double density() const { return real > 0 ? active / real : 0; }
};

// Counts the active tokens among the real ones. `padding` is empty (no
// padding) or as long as `active` (true = padding, excluded from both
// counts); masks of a (B, L) batch may be passed flattened. Throws
// std::invalid_argument when the lengths differ.
ActiveCount count_active(const std::vector<bool>& active, const std::vector<bool>& padding = {});

// Mean attention span of one sequence, in ORIGINAL token positions.
// Let p_0 < p_1 < ... < p_{S-1} be the original positions of the active tokens
// (the compressed sequence: slot s holds token p_s). Query slot i sees the key
// slots j in [0, S) with |i - j| <= window (bidirectional) or
// 0 <= i - j <= window (causal); its span is
//   max_j p_j - min_j p_j   over those visible keys,
// i.e. p_min(S-1, i+w) - p_max(0, i-w)  (bidirectional)
// or   p_i             - p_max(0, i-w)  (causal).
// The result is the mean span over the S active query slots, and 0 when no
// token is active. window < 0 means an unlimited window. Example: active =
// 1 0 0 1 0 1 (p = 0, 3, 5), window 1, causal: spans 0, 3, 2 -> 5/3.
// Note: this is the span when the batch is compressed (docs/semantics.md section 3 step 5); if some
// row of the batch is fully active nothing is compressed and the window counts
// original positions instead.
double mean_attention_span(const std::vector<bool>& active, int window, bool causal);

// LayerStats pooled over many sequences, layer by layer:
//   density   = sum_s active_s / sum_s real_s
//   mean_span = sum_s active_s * mean_attention_span(s) / sum_s active_s
// i.e. every token (every active token for the span) of every sequence counts
// once, so long sequences weigh more than short ones.
class RoutingStats {
 public:
  RoutingStats(int window, bool causal) : window_(window), causal_(causal) {}
  // One sequence's active mask for `layer` (padding already stripped).
  void add(size_t layer, const std::vector<bool>& active);
  // One entry per layer seen so far.
  std::vector<LayerStats> layer_stats() const;

 private:
  struct Sums {
    ActiveCount count;
    double span_sum = 0;  // sum_s active_s * mean span of s
  };
  int window_;
  bool causal_;
  std::vector<Sums> layers_;
};

}  // namespace seqboat::train
