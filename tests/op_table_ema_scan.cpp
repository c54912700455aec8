// tests/op_table_ema_scan.cpp: op-table cases of the ema_scan family
// (ops/ema_scan.h): ema_conv, the EMA convolution as recurrences, causal and
// bidirectional, padded, truncated and not.
#include <fmt/format.h>

#include "op_table.h"
#include "ops/ema_scan.h"
#include "ops/shape.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

SEQBOAT_OP_CASES(ema_conv_cases) {
  struct Size {
    const char* name;
    int64_t L, truncation;
  };
  const int64_t B = 2, D = 3, N = 2;
  for (bool bidirectional : {false, true})
    for (bool padded : {false, true})
      for (Size s :
           {Size{"full", 6, 0}, Size{"truncated3", 7, 3}, Size{"truncation_beyond_L", 4, 9}, Size{"L1", 1, 0}}) {
        const int64_t L = s.L, trunc = s.truncation, K = bidirectional ? 2 * D : D;
        table.add(
            fmt::format("ema_conv/{}/{}/{}", bidirectional ? "bidirectional" : "causal", padded ? "padded" : "no_pad",
                        s.name),
            [=](Generator& g) {
              return V{randn({B, L, D}, g), randn({K, N, 1}, g), randn({K, N, 1}, g),
                       randn({K, N, 1}, g), randn({K, N}, g),    padded ? padding_with_full_row(B, L) : Tensor()};
            },
            [=](const V& x) { return ema_conv(x[0], x[1], x[2], x[3], x[4], x[5], bidirectional, trunc); });
      }
  // Longer than the CUDA kernels' 64-position chunks (three chunks, the
  // last one short), truncated across chunk borders: the carries between
  // chunks in both directions.
  for (bool bidirectional : {false, true}) {
    const int64_t L = 150, trunc = 70, K = bidirectional ? 2 * D : D;
    table.add(fmt::format("ema_conv/{}/padded/three_chunks_truncated70", bidirectional ? "bidirectional" : "causal"),
              [=](Generator& g) {
                return V{randn({B, L, D}, g), randn({K, N, 1}, g), randn({K, N, 1}, g),
                         randn({K, N, 1}, g), randn({K, N}, g),    padding_with_full_row(B, L)};
              },
              [=](const V& x) { return ema_conv(x[0], x[1], x[2], x[3], x[4], x[5], bidirectional, trunc); });
  }
  table.add(
      "ema_conv/causal/non_contiguous_x",
      [](Generator& g) {
        return V{randn({2, 3, 5}, g), randn({3, 3, 1}, g), randn({3, 3, 1}, g), randn({3, 3, 1}, g), randn({3, 3}, g)};
      },
      [](const V& x) { return ema_conv(transpose(x[0], 1, 2), x[1], x[2], x[3], x[4], Tensor(), false, 0); });
}

// Decoding (forward-only: inference ops): the state after a prefix, and one
// step from a given state, with and without truncation; the step's case
// returns y and the updated state together.
SEQBOAT_OP_CASES(ema_decoding_cases) {
  const int64_t B = 2, L = 6, D = 3, N = 2;
  auto params = [=](Generator& g) {
    return V{randn_data({D, N, 1}, g), randn_data({D, N, 1}, g), randn_data({D, N, 1}, g), randn_data({D, N}, g)};
  };
  for (int64_t trunc : {int64_t{0}, int64_t{3}})
    for (bool padded : {false, true})
      table.add_forward(
          fmt::format("ema_state/{}/truncation{}", padded ? "padded" : "no_pad", trunc),
          [=](Generator& g) {
            V x{randn_data({B, L, D}, g)};
            for (const Tensor& p : params(g)) x.push_back(p);
            x.push_back(padded ? padding_with_full_row(B, L) : Tensor());
            return x;
          },
          [=](const V& x) { return ema_state(x[0], x[1], x[2], x[3], x[4], x[5], trunc); });
  for (int64_t trunc : {int64_t{0}, int64_t{3}})
    table.add_forward(
        fmt::format("ema_step/truncation{}", trunc),
        [=](Generator& g) {
          V x{randn_data({B, D}, g), trunc > 0 ? randn_data({B, D}, g) : Tensor()};
          for (const Tensor& p : params(g)) x.push_back(p);
          x.push_back(randn_data({B, D, N}, g));
          return x;
        },
        [=](const V& x) {
          Tensor y = ema_step(x[0], x[1], x[2], x[3], x[4], x[5], x[6], trunc);
          return concat({reshape(y, {-1}), reshape(x[6], {-1})}, 0);
        });
}

}  // namespace seqboat::testing
