// nn/sampling.cpp: sample_next_token (see sampling.h).
#include "nn/sampling.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace seqboat::nn {

int64_t sample_next_token(const std::vector<double>& logits, double temperature, int64_t top_k, Generator& gen) {
  const auto V = static_cast<int64_t>(logits.size());
  if (V == 0) fail("sample_next_token: no logits");
  if (!(temperature >= 0) || top_k < 0)
    fail(fmt::format("sample_next_token: temperature ({}) and top_k ({}) must be >= 0", temperature, top_k));
  // NaN or +inf logits (a model with broken weights) have no distribution:
  // an error, not a byte picked from garbage. -inf is a masked choice.
  for (int64_t v = 0; v < V; ++v)
    if (std::isnan(logits[v]) || logits[v] == std::numeric_limits<double>::infinity())
      throw std::runtime_error(
          fmt::format("sample_next_token: logit {} of {} is {}: the model's output is not finite", v, V, logits[v]));
  if (temperature == 0) return std::max_element(logits.begin(), logits.end()) - logits.begin();

  std::vector<double> sorted = logits;
  std::sort(sorted.rbegin(), sorted.rend());
  const double cut = top_k > 0 && top_k < V ? sorted[top_k - 1] : -std::numeric_limits<double>::infinity();
  // Subtracting the maximum keeps exp() <= 1: no overflow for large logits.
  const double mx = sorted[0];
  double total = 0;
  std::vector<double> p(logits.size());
  for (int64_t v = 0; v < V; ++v) total += p[v] = logits[v] >= cut ? std::exp((logits[v] - mx) / temperature) : 0;
  // Inverse CDF: walk until the running sum of p reaches u * total.
  double u = gen.next_double() * total;
  int64_t next = 0;
  for (; next < V - 1 && (u -= p[next]) > 0; ++next) {}
  return next;
}

}  // namespace seqboat::nn
