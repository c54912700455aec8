// tests/op_table_position.cpp: op-table cases of the position family
// (ops/position.h): rotary (large positions included) and the
// relative-position bias gather, whose positions lie further apart than M.
#include "op_table.h"
#include "ops/position.h"
#include "ops/shape.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

namespace {

// Int64 positions (B, S), values in [0, n).
Tensor positions(int64_t B, int64_t S, int64_t n, Generator& g) { return randint({B, S}, n, g); }

}  // namespace

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
