// tests/op_table_sma.cpp: op-table cases of the sma family (ops/sma.h):
// sma_router with mixed routing and padding (and a row long enough for the
// block path of the CUDA reduction); sma_compress / sma_extract on
// compressed, uncompressed and empty (S = 0) plans, and the compress ->
// extract round trip.
#include <cmath>
#include <string>

#include "op_table.h"
#include "ops/shape.h"
#include "ops/sma.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

namespace {

// u (B, L, 2) whose decisions sit far from the tie: u1 - u0 = sign * (0.5 + |N|),
// signs alternating in a fixed pattern so that each row mixes both options.
Tensor router_logits(int64_t B, int64_t L, Generator& g) {
  Tensor u = rand_normal({B, L, 2}, 0.0, 1.0, DType::Float64, &g);
  double* p = u.data<double>();
  for (int64_t n = 0; n < B * L; ++n) {
    const double sign = (n % 3 == 1) ? -1.0 : 1.0;
    p[2 * n + 1] = p[2 * n] + sign * (0.5 + std::abs(g.next_normal()));
  }
  return u.requires_grad_(true);
}

// (B, L) UInt8 from 0/1 values.
Tensor u8_mask(const std::vector<int>& values, int64_t B, int64_t L) {
  Tensor m = empty({B, L}, DType::UInt8);
  for (int64_t n = 0; n < B * L; ++n) m.data<uint8_t>()[n] = static_cast<uint8_t>(values[static_cast<size_t>(n)]);
  return m;
}

struct ActiveCase {
  const char* name;
  std::vector<int> active;  // (2, 5)
};

// Partial activity (compressed, S = 3), a fully active row (not compressed),
// nothing active (S = 0).
std::vector<ActiveCase> active_cases() {
  return {{"compressed", {1, 0, 1, 1, 0, /**/ 0, 1, 0, 0, 0}},
          {"uncompressed_full_row", {1, 1, 1, 1, 1, /**/ 0, 1, 0, 1, 0}},
          {"none_active", {0, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0}}};
}

}  // namespace

SEQBOAT_OP_CASES(sma_router_cases) {
  // router_logits makes tokens n = 1, 4, 7, 10 (flat index) choose option 0;
  // padding at otherwise active tokens: row 0 at t = 3, row 1 at t = 0 and 5.
  const std::vector<int> pad = {0, 0, 0, 1, 0, 0, /**/ 1, 0, 0, 0, 0, 1};
  table.add(
      "sma_router/mixed_with_padding",
      [pad](Generator& g) {
        return V{router_logits(2, 6, g), randn({1}, g, 0.3), u8_mask(pad, 2, 6)};
      },
      [](const V& x) { return sma_router(x[0], x[1], x[2]).gate; });
  table.add(
      "sma_router/mixed_no_padding",
      [](Generator& g) {
        return V{router_logits(2, 6, g), randn({1}, g, 0.3)};
      },
      [](const V& x) { return sma_router(x[0], x[1], Tensor()).gate; });
  table.add(
      "sma_router/long_no_padding",  // dtemp summed over 320 tokens: the block path of reduce_rows
      [](Generator& g) {
        return V{router_logits(2, 160, g), randn({1}, g, 0.3)};
      },
      [](const V& x) { return sma_router(x[0], x[1], Tensor()).gate; });
}

SEQBOAT_OP_CASES(sma_move_cases) {
  const int64_t B = 2, L = 5, C = 3;
  for (const ActiveCase& ac : active_cases()) {
    const std::vector<int> active = ac.active;
    table.add(
        std::string("sma_compress/") + ac.name,
        [active](Generator& g) {
          return V{randn({B, L, C}, g), u8_mask(active, B, L)};
        },
        [](const V& x) { return sma_compress(x[0], sma_plan(x[1])); });
    table.add(
        std::string("sma_extract/") + ac.name,
        [active](Generator& g) {
          Tensor mask = u8_mask(active, B, L);
          return V{randn({B, sma_plan(mask).slots, C}, g), mask};
        },
        [](const V& x) { return sma_extract(x[0], sma_plan(x[1])); });
    table.add(
        std::string("sma_compress_extract_round_trip/") + ac.name,
        [active](Generator& g) {
          return V{randn({B, L, C}, g), u8_mask(active, B, L)};
        },
        [](const V& x) {
          SmaPlan plan = sma_plan(x[1]);
          return sma_extract(sma_compress(x[0], plan), plan);
        });
  }
  table.add(
      "sma_compress/compressed/x_non_contiguous",
      [](Generator& g) {
        return V{randn({B, C, L}, g), u8_mask(active_cases()[0].active, B, L)};
      },
      [](const V& x) { return sma_compress(transpose(x[0], 1, 2), sma_plan(x[1])); });
}

}  // namespace seqboat::testing
