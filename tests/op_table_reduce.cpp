// tests/op_table_reduce.cpp: op-table cases of the reduce family
// (ops/reduce.h): sums and means over leading, trailing and middle dims,
// max with its first-maximum gradient, and the long rows the block path of
// the CUDA reductions takes.
#include "op_table.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

SEQBOAT_OP_CASES(reduce_cases) {
  table.add(
      "sum/all",
      [](Generator& g) {
        return V{randn({2, 3}, g)};
      },
      [](const V& x) { return sum(x[0]); });
  table.add(
      "sum/dim1_keepdim",
      [](Generator& g) {
        return V{randn({2, 3, 4}, g)};
      },
      [](const V& x) { return sum(x[0], {1}, true); });
  table.add(
      "sum/dims02",
      [](Generator& g) {
        return V{randn({2, 3, 4}, g)};
      },
      [](const V& x) {
        return sum(x[0], {0, 2});
      });
  table.add(
      "sum/non_contiguous",
      [](Generator& g) {
        return V{randn({3, 4}, g)};
      },
      [](const V& x) { return sum(transpose(x[0], 0, 1), {1}); });
  // Rows of 256 terms or more take the block path of the CUDA kernels'
  // reduce_rows (cuda/exec.h): lanes, then a block reduction.
  table.add(
      "sum/long_rows",
      [](Generator& g) {
        return V{randn({2, 300}, g)};
      },
      [](const V& x) { return sum(x[0], {1}); });
  table.add(
      "sum/long_leading",  // 1030 rows: two chunks of reduce_cols, the second partial
      [](Generator& g) {
        return V{randn({1030, 2}, g)};
      },
      [](const V& x) { return sum(x[0], {0}); });
  table.add(
      "mean/dim-1",
      [](Generator& g) {
        return V{randn({2, 3, 4}, g)};
      },
      [](const V& x) { return mean(x[0], {-1}); });
  table.add(
      "mean/all",
      [](Generator& g) {
        return V{randn({3, 4}, g)};
      },
      [](const V& x) { return mean(x[0]); });
  table.add(
      "max/dim1",
      [](Generator& g) {
        return V{randn({2, 4, 3}, g)};
      },
      [](const V& x) { return max(x[0], 1); });
  table.add(
      "max/dim0_keepdim",
      [](Generator& g) {
        return V{randn({4, 3}, g)};
      },
      [](const V& x) { return max(x[0], 0, true); });
  table.add(
      "cumsum/last_dim", [](Generator& g) { return V{randn({2, 5}, g)}; }, [](const V& x) { return cumsum(x[0], -1); });
  table.add(
      "cumsum/middle_dim", [](Generator& g) { return V{randn({2, 4, 3}, g)}; },
      [](const V& x) { return cumsum(x[0], 1); });
  table.add(
      "cumsum/non_contiguous", [](Generator& g) { return V{randn({3, 4}, g)}; },
      [](const V& x) { return cumsum(transpose(x[0], 0, 1), 0); });
}

}  // namespace seqboat::testing
