// train/routing_stats.cpp: active-token counts, attention spans and their
// per-layer pooling (see routing_stats.h).
#include "train/routing_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "tensor/tensor.h"

namespace seqboat::train {

ActiveCount count_active(const std::vector<bool>& active, const std::vector<bool>& padding) {
  if (!padding.empty() && padding.size() != active.size())
    fail(
        fmt::format("count_active: {} active flags but {} padding flags", active.size(), padding.size()));
  ActiveCount c;
  for (size_t i = 0; i < active.size(); ++i) {
    if (!padding.empty() && padding[i]) continue;
    c.real += 1;
    c.active += active[i];
  }
  return c;
}

double mean_attention_span(const std::vector<bool>& active, int window, bool causal) {
  std::vector<int64_t> pos;
  for (size_t t = 0; t < active.size(); ++t)
    if (active[t]) pos.push_back(static_cast<int64_t>(t));
  const auto s = static_cast<int64_t>(pos.size());
  if (s == 0) return 0;
  const int64_t w = window < 0 ? s : static_cast<int64_t>(window);
  double total = 0;
  for (int64_t i = 0; i < s; ++i) {
    const int64_t lo = std::max<int64_t>(0, i - w);
    const int64_t hi = causal ? i : std::min<int64_t>(s - 1, i + w);
    total += static_cast<double>(pos[hi] - pos[lo]);
  }
  return total / static_cast<double>(s);
}

void RoutingStats::add(size_t layer, const std::vector<bool>& active) {
  if (layers_.size() <= layer) layers_.resize(layer + 1);
  Sums& s = layers_[layer];
  const ActiveCount c = count_active(active);
  s.count.active += c.active;
  s.count.real += c.real;
  if (c.active > 0) s.span_sum += c.active * mean_attention_span(active, window_, causal_);
}

std::vector<LayerStats> RoutingStats::layer_stats() const {
  std::vector<LayerStats> out;
  for (const Sums& s : layers_)
    out.push_back({s.count.density(), s.count.active > 0 ? s.span_sum / s.count.active : 0});
  return out;
}

}  // namespace seqboat::train
