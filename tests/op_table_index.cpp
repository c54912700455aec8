// tests/op_table_index.cpp: op-table cases of the index family
// (ops/index.h): gather, scatter, scatter_add and index_select along several
// dims, with repeated indices where the op allows them and non-contiguous
// inputs. Index inputs are non-grad tensors made in make_inputs.
#include "op_table.h"
#include "ops/index.h"
#include "ops/shape.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

namespace {

// Int64 index of `shape` whose entries along dim d are distinct values in
// [0, n) within every slice (what scatter requires); shape[d] <= n.
Tensor rand_unique_index(const Shape& shape, int64_t d, int64_t n, Generator& g) {
  Tensor t = empty(shape, DType::Int64);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    if (i < d) outer *= shape[i];
    if (i > d) inner *= shape[i];
  }
  std::vector<int64_t> pool(static_cast<size_t>(n));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      for (int64_t k = 0; k < n; ++k) pool[k] = k;
      for (int64_t k = 0; k < shape[d]; ++k) {  // partial Fisher-Yates
        std::swap(pool[k], pool[k + static_cast<int64_t>(g.next_below(static_cast<uint64_t>(n - k)))]);
        t.data<int64_t>()[(o * shape[d] + k) * inner + in] = pool[k];
      }
    }
  return t;
}

}  // namespace

SEQBOAT_OP_CASES(index_cases) {
  table.add(
      "gather/dim0",
      [](Generator& g) {
        return V{randn({4, 3}, g), randint({2, 3}, 4, g)};
      },
      [](const V& x) { return gather(x[0], 0, x[1]); });
  table.add(
      "gather/dim1_repeated",
      [](Generator& g) {
        return V{randn({3, 5}, g), randint({3, 7}, 5, g)};
      },
      [](const V& x) { return gather(x[0], 1, x[1]); });
  table.add(
      "gather/3d_middle_smaller_index",
      [](Generator& g) {
        return V{randn({2, 4, 3}, g), randint({2, 5, 2}, 4, g)};
      },
      [](const V& x) { return gather(x[0], -2, x[1]); });
  table.add(
      "gather/non_contiguous",
      [](Generator& g) {
        return V{randn({5, 3}, g), randint({3, 4}, 5, g)};
      },
      [](const V& x) { return gather(transpose(x[0], 0, 1), 1, x[1]); });

  table.add(
      "scatter/dim1",
      [](Generator& g) {
        return V{randn({3, 5}, g), rand_unique_index({3, 3}, 1, 5, g), randn({3, 3}, g)};
      },
      [](const V& x) { return scatter(x[0], 1, x[1], x[2]); });
  table.add(
      "scatter/dim0_src_larger",
      [](Generator& g) {
        return V{randn({4, 3}, g), rand_unique_index({2, 3}, 0, 4, g), randn({3, 4}, g)};
      },
      [](const V& x) { return scatter(x[0], 0, x[1], x[2]); });
  table.add(
      "scatter/3d_non_contiguous",
      [](Generator& g) {
        return V{randn({4, 3, 2}, g), rand_unique_index({2, 2, 4}, 1, 3, g), randn({2, 4, 2}, g)};
      },
      [](const V& x) { return scatter(transpose(x[0], 0, 2), 1, x[1], transpose(x[2], 1, 2)); });

  table.add(
      "scatter_add/dim1_repeated",
      [](Generator& g) {
        return V{randn({3, 4}, g), randint({3, 6}, 4, g), randn({3, 6}, g)};
      },
      [](const V& x) { return scatter_add(x[0], 1, x[1], x[2]); });
  table.add(
      "scatter_add/dim0_src_larger",
      [](Generator& g) {
        return V{randn({3, 2}, g), randint({4, 2}, 3, g), randn({5, 3}, g)};
      },
      [](const V& x) { return scatter_add(x[0], 0, x[1], x[2]); });
  table.add(
      "scatter_add/non_contiguous",
      [](Generator& g) {
        return V{randn({4, 2}, g), randint({2, 5}, 4, g), randn({5, 2}, g)};
      },
      [](const V& x) { return scatter_add(transpose(x[0], 0, 1), 1, x[1], transpose(x[2], 0, 1)); });

  table.add(
      "index_select/dim0_repeated",
      [](Generator& g) {
        return V{randn({4, 3}, g), randint({6}, 4, g)};
      },
      [](const V& x) { return index_select(x[0], 0, x[1]); });
  table.add(
      "index_select/3d_middle",
      [](Generator& g) {
        return V{randn({2, 5, 3}, g), randint({4}, 5, g)};
      },
      [](const V& x) { return index_select(x[0], 1, x[1]); });
  table.add(
      "index_select/last_non_contiguous",
      [](Generator& g) {
        return V{randn({4, 3}, g), randint({5}, 4, g)};
      },
      [](const V& x) { return index_select(transpose(x[0], 0, 1), -1, x[1]); });
}

}  // namespace seqboat::testing
