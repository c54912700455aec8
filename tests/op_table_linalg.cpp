// tests/op_table_linalg.cpp: op-table cases of the linalg family
// (ops/linalg.h): matmul (batched, broadcast, transposed operands) and the
// linear layer with and without bias.
#include "op_table.h"
#include "ops/linalg.h"
#include "ops/shape.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

SEQBOAT_OP_CASES(linalg_cases) {
  table.add(
      "matmul/2d",
      [](Generator& g) {
        return V{randn({3, 4}, g), randn({4, 2}, g)};
      },
      [](const V& x) { return matmul(x[0], x[1]); });
  table.add(
      "matmul/batched",
      [](Generator& g) {
        return V{randn({2, 3, 4}, g), randn({2, 4, 2}, g)};
      },
      [](const V& x) { return matmul(x[0], x[1]); });
  table.add(
      "matmul/broadcast_batch",
      [](Generator& g) {
        return V{randn({2, 3, 4}, g), randn({4, 2}, g)};
      },
      [](const V& x) { return matmul(x[0], x[1]); });
  table.add(
      "matmul/transposed_inputs",
      [](Generator& g) {
        return V{randn({4, 3}, g), randn({2, 4}, g)};
      },
      [](const V& x) { return matmul(transpose(x[0], 0, 1), transpose(x[1], 0, 1)); });
  table.add(
      "matmul/vector",
      [](Generator& g) {
        return V{randn({3, 4}, g), randn({4}, g)};
      },
      [](const V& x) { return matmul(x[0], x[1]); });
  table.add(
      "linear/3d_bias",
      [](Generator& g) {
        return V{randn({2, 3, 4}, g), randn({5, 4}, g), randn({5}, g)};
      },
      [](const V& x) { return linear(x[0], x[1], x[2]); });
  table.add(
      "linear/no_bias_non_contiguous",
      [](Generator& g) {
        return V{randn({4, 3}, g), randn({2, 4}, g)};
      },
      [](const V& x) { return linear(transpose(x[0], 0, 1), x[1]); });
}

}  // namespace seqboat::testing
