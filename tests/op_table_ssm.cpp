// tests/op_table_ssm.cpp: op-table cases of the ssm family (ops/ssm.h):
// ema_kernel, ssm_conv (causal / bidirectional x Direct / Toeplitz / FFT x
// padding x kernel length), and ema_kernel -> ssm_conv composed.
#include <fmt/format.h>

#include "op_table.h"
#include "ops/shape.h"
#include "ops/ssm.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

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
                                         kernels::conv_algo_name(algo), padded ? "padded" : "no_pad", s.name);
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
                      kernels::conv_algo_name(algo)),
          [=](Generator& g) {
            return V{randn({K, N, 1}, g), randn({K, N, 1}, g), randn({K, N, 1}, g),
                     randn({K, N}, g),    randn({B, L, D}, g), padding_with_full_row(B, L)};
          },
          [=](const V& x) {
            return ssm_conv(x[4], ema_kernel(x[0], x[1], x[2], x[3], Lk), x[5], bidirectional, algo);
          });
  }
}

}  // namespace seqboat::testing
