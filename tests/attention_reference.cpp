// tests/attention_reference.cpp: see attention_reference.h.
#include "attention_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace seqboat::testing {

Tensor local_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                                 const Tensor& positions, const Tensor& rel_bias, const LocalAttentionOptions& opt) {
  const int64_t B = q.size(0), S = q.size(1), Z = q.size(2), H = v.size(2);
  const std::vector<double> qv = q.to_vector(), kv = k.to_vector(), vv = v.to_vector();
  const std::vector<double> w = rel_bias.defined() ? rel_bias.to_vector() : std::vector<double>();
  const std::vector<double> pos = rel_bias.defined() ? positions.to_vector() : std::vector<double>();
  const std::vector<double> mask = key_mask.defined() ? key_mask.to_vector() : std::vector<double>(B * S, 0.0);
  const int64_t M = (static_cast<int64_t>(w.size()) + 1) / 2;
  const bool relu2 = opt.activation == AttnActivation::Relu2;
  const double c = relu2 ? 1.0 / static_cast<double>(opt.causal ? opt.window : 2 * opt.window)
                         : 1.0 / std::sqrt(static_cast<double>(Z));
  std::vector<double> out(static_cast<size_t>(B * S * H), 0.0), score(static_cast<size_t>(S));
  for (int64_t b = 0; b < B; ++b) {
    // A batch row without any valid key is left unmasked (softmax only).
    bool row_has_valid_key = false;
    for (int64_t j = 0; j < S; ++j) row_has_valid_key = row_has_valid_key || mask[b * S + j] == 0;
    const bool unmask_row = !row_has_valid_key && !relu2;
    for (int64_t i = 0; i < S; ++i) {
      std::vector<bool> visible(static_cast<size_t>(S));
      double max_pre = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < S; ++j) {
        const int64_t d = i - j;
        const bool in_window = opt.causal ? (d >= 0 && d <= opt.window) : (std::abs(d) <= opt.window);
        visible[j] = in_window && (unmask_row || mask[b * S + j] == 0);
        double pre = 0;
        for (int64_t z = 0; z < Z; ++z) pre += qv[(b * S + i) * Z + z] * kv[(b * S + j) * Z + z];
        pre *= c;
        if (!w.empty()) {
          const int64_t r = M - 1 + static_cast<int64_t>(pos[b * S + j]) - static_cast<int64_t>(pos[b * S + i]);
          pre += w[std::clamp<int64_t>(r, 0, 2 * M - 2)];
        }
        score[j] = pre;
        if (visible[j]) max_pre = std::max(max_pre, pre);
      }
      double total = 0;
      for (int64_t j = 0; j < S; ++j) {
        if (!visible[j]) score[j] = 0;
        else if (relu2) score[j] = std::max(score[j], 0.0) * std::max(score[j], 0.0);
        else score[j] = std::exp(score[j] - max_pre);
        total += score[j];
      }
      for (int64_t j = 0; j < S; ++j) {
        const double s = relu2 ? score[j] : (total > 0 ? score[j] / total : 0.0);
        for (int64_t h = 0; h < H; ++h) out[(b * S + i) * H + h] += s * vv[(b * S + j) * H + h];
      }
    }
  }
  return from_vector(out, {B, S, H}, q.dtype());
}

}  // namespace seqboat::testing
