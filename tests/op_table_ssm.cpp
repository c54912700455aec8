// tests/op_table_ssm.cpp: op-table cases for the SSM ops (ops/ssm.h):
// ema_kernel, ssm_conv (causal / bidirectional x Direct / FFT x padding x
// kernel length), ema_kernel -> ssm_conv composed, ema_conv (the recurrences),
// rotary, rel_pos_bias_gather.
#include <fmt/format.h>

#include "op_table.h"
#include "ops/shape.h"
#include "ops/ssm.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

namespace {

// (B, L) UInt8 padding mask: row 0 padded at t = 1 and the last position
// (when L >= 3), row 1 fully padded, any further rows unpadded.
Tensor padding_with_full_row(int64_t B, int64_t L) {
  Tensor m = zeros({B, L}, DType::UInt8);
  if (L >= 3) {
    m.set({0, 1}, 1);
    m.set({0, L - 1}, 1);
  }
  if (B > 1)
    for (int64_t t = 0; t < L; ++t) m.set({1, t}, 1);
  return m;
}

// Int64 positions (B, S), values in [0, n).
Tensor positions(int64_t B, int64_t S, int64_t n, Generator& g) { return randint({B, S}, n, g); }

}  // namespace

SEQBOAT_OP_CASES(ema_kernel_cases) {
  struct Variant {
    const char* name;
    int64_t K, N, length;
  };
  for (Variant v : {Variant{"N1_len5", 2, 1, 5}, Variant{"N2_len5", 2, 2, 5}, Variant{"N3_len1", 3, 3, 1},
                    Variant{"N2_len12", 1, 2, 12}, Variant{"N3_truncated_len3", 2, 3, 3}}) {
    const int64_t K = v.K, N = v.N, length = v.length;
    table.add(
        std::string("ema_kernel/") + v.name,
        [K, N](Generator& g) {
          return V{randn({K, N, 1}, g), randn({K, N, 1}, g), randn({K, N, 1}, g), randn({K, N}, g)};
        },
        [length](const V& x) { return ema_kernel(x[0], x[1], x[2], x[3], length); });
  }
}

// ema_conv: the recurrences straight from the parameters, causal and
// bidirectional, with and without padding (a fully padded row included),
// full length and truncated, non-contiguous x.
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

static const char* algo_name(ConvAlgo algo) {
  return algo == ConvAlgo::FFT ? "fft" : algo == ConvAlgo::Toeplitz ? "toeplitz" : "direct";
}

SEQBOAT_OP_CASES(ssm_conv_cases) {
  struct Size {
    const char* name;
    int64_t L, Lk;
  };
  const int64_t B = 2, D = 2;
  for (bool bidirectional : {false, true})
    for (ConvAlgo algo : {ConvAlgo::Direct, ConvAlgo::Toeplitz, ConvAlgo::FFT})
      for (bool padded : {false, true})
        for (Size s : {Size{"full_kernel", 5, 5}, Size{"truncated", 6, 3}, Size{"L1", 1, 1}}) {
          const int64_t L = s.L, Lk = s.Lk, rows = bidirectional ? 2 * D : D;
          std::string name = fmt::format("ssm_conv/{}/{}/{}/{}", bidirectional ? "bidirectional" : "causal",
                                         algo_name(algo), padded ? "padded" : "no_pad", s.name);
          table.add(
              name,
              [=](Generator& g) {
                return V{randn({B, L, D}, g), randn({rows, Lk}, g), padded ? padding_with_full_row(B, L) : Tensor()};
              },
              [=](const V& x) { return ssm_conv(x[0], x[1], x[2], bidirectional, algo); });
        }
  // x as a non-contiguous view, Auto algorithm.
  table.add(
      "ssm_conv/causal/auto/non_contiguous_x",
      [](Generator& g) {
        return V{randn({2, 2, 4}, g), randn({2, 3}, g)};
      },
      [](const V& x) { return ssm_conv(transpose(x[0], 1, 2), x[1], Tensor(), false); });
}

SEQBOAT_OP_CASES(ema_ssm_composed_cases) {
  // ema_kernel -> ssm_conv: gradients reach delta, alpha, beta, gamma and x.
  for (bool bidirectional : {false, true}) {
    const int64_t B = 2, L = 5, D = 2, N = 2, K = bidirectional ? 2 * D : D;
    const int64_t Lk = bidirectional ? 3 : L;  // bidirectional: truncated kernel
    for (ConvAlgo algo : {ConvAlgo::Direct, ConvAlgo::Toeplitz, ConvAlgo::FFT})
      table.add(
          fmt::format("ema_kernel+ssm_conv/{}/{}", bidirectional ? "bidirectional_truncated" : "causal",
                      algo_name(algo)),
          [=](Generator& g) {
            return V{randn({K, N, 1}, g), randn({K, N, 1}, g), randn({K, N, 1}, g),
                     randn({K, N}, g),    randn({B, L, D}, g), padding_with_full_row(B, L)};
          },
          [=](const V& x) {
            return ssm_conv(x[4], ema_kernel(x[0], x[1], x[2], x[3], Lk), x[5], bidirectional, algo);
          });
  }
}

SEQBOAT_OP_CASES(rotary_cases) {
  table.add(
      "rotary/Z4",
      [](Generator& g) {
        return V{randn({2, 3, 4}, g), positions(2, 3, 50, g)};
      },
      [](const V& x) { return rotary(x[0], x[1]); });
  table.add(
      "rotary/Z6_large_positions",
      [](Generator& g) {
        return V{randn({1, 4, 6}, g), positions(1, 4, 5000, g)};
      },
      [](const V& x) { return rotary(x[0], x[1]); });
  table.add(
      "rotary/non_contiguous",
      [](Generator& g) {
        return V{randn({2, 4, 3}, g), positions(2, 3, 20, g)};
      },
      [](const V& x) { return rotary(transpose(x[0], 1, 2), x[1]); });
}

SEQBOAT_OP_CASES(rel_pos_bias_cases) {
  // M = 4 (w has 7 entries); positions up to 11 make offsets beyond +-(M-1).
  table.add(
      "rel_pos_bias_gather/clamped",
      [](Generator& g) {
        return V{randn({7}, g), positions(2, 3, 12, g), positions(2, 4, 12, g)};
      },
      [](const V& x) { return rel_pos_bias_gather(x[0], x[1], x[2]); });
  table.add(
      "rel_pos_bias_gather/in_range",
      [](Generator& g) {
        return V{randn({9}, g), from_vector_i64({0, 1, 3}, {1, 3}), from_vector_i64({0, 2, 3, 4}, {1, 4})};
      },
      [](const V& x) { return rel_pos_bias_gather(x[0], x[1], x[2]); });
}

}  // namespace seqboat::testing
