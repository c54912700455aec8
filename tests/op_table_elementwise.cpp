// tests/op_table_elementwise.cpp: op-table cases of the elementwise family
// (ops/elementwise.h): binary ops with broadcasting, unary ops (inputs kept
// away from kinks and poles), where and masked_fill with broadcast masks;
// non-contiguous inputs included.
#include "op_table.h"
#include "ops/elementwise.h"
#include "ops/shape.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

SEQBOAT_OP_CASES(pointwise_cases) {
  struct Binary {
    const char* name;
    Tensor (*op)(const Tensor&, const Tensor&);
  };
  for (Binary b : {Binary{"add", add}, Binary{"sub", sub}, Binary{"mul", mul}, Binary{"div", div}}) {
    std::string n = b.name;
    auto op = b.op;
    table.add(
        n + "/same",
        [](Generator& g) {
          return V{randn({2, 3}, g), randu({2, 3}, g, 0.5, 2.0)};
        },
        [op](const V& x) { return op(x[0], x[1]); });
    table.add(
        n + "/broadcast_row",
        [](Generator& g) {
          return V{randn({2, 3, 4}, g), randu({4}, g, 0.5, 2.0)};
        },
        [op](const V& x) { return op(x[0], x[1]); });
    table.add(
        n + "/broadcast_both",
        [](Generator& g) {
          return V{randn({3, 1}, g), randu({1, 4}, g, 0.5, 2.0)};
        },
        [op](const V& x) { return op(x[0], x[1]); });
    table.add(
        n + "/non_contiguous",
        [](Generator& g) {
          return V{randn({4, 3}, g), randu({3, 4}, g, 0.5, 2.0)};
        },
        [op](const V& x) { return op(transpose(x[0], 0, 1), x[1]); });
    table.add(
        n + "/scalar_tensor",
        [](Generator& g) {
          return V{randn({2, 3}, g), randu({}, g, 0.5, 2.0)};
        },
        [op](const V& x) { return op(x[0], x[1]); });
    // The fast broadcast paths of ops/elementwise.cpp, with the broadcast
    // operand on either side.
    table.add(
        n + "/broadcast_column",
        [](Generator& g) {
          return V{randn({2, 3, 4}, g), randu({2, 3, 1}, g, 0.5, 2.0)};
        },
        [op](const V& x) { return op(x[0], x[1]); });
    table.add(
        n + "/broadcast_column_first",
        [](Generator& g) {
          return V{randn({2, 3, 1}, g), randu({2, 3, 4}, g, 0.5, 2.0)};
        },
        [op](const V& x) { return op(x[0], x[1]); });
    table.add(
        n + "/broadcast_row_first",
        [](Generator& g) {
          return V{randn({1, 3, 4}, g), randu({2, 3, 4}, g, 0.5, 2.0)};
        },
        [op](const V& x) { return op(x[0], x[1]); });
    table.add(
        n + "/scalar_first",
        [](Generator& g) {
          return V{randn({1}, g), randu({2, 3}, g, 0.5, 2.0)};
        },
        [op](const V& x) { return op(x[0], x[1]); });
  }
  table.add(
      "add_scalar", [](Generator& g) { return V{randn({5}, g)}; }, [](const V& x) { return add_scalar(x[0], 0.7); });
  table.add(
      "mul_scalar", [](Generator& g) { return V{randn({5}, g)}; }, [](const V& x) { return mul_scalar(x[0], -1.3); });
  table.add(
      "neg",
      [](Generator& g) {
        return V{randn({2, 3}, g)};
      },
      [](const V& x) { return neg(x[0]); });
  table.add(
      "exp",
      [](Generator& g) {
        return V{randn({2, 3}, g)};
      },
      [](const V& x) { return exp(x[0]); });
  table.add(
      "exp/non_contiguous",
      [](Generator& g) {
        return V{randn({3, 2}, g)};
      },
      [](const V& x) { return exp(transpose(x[0], 0, 1)); });
  table.add(
      "log",
      [](Generator& g) {
        return V{randu({2, 3}, g, 0.2, 3.0)};
      },
      [](const V& x) { return log(x[0]); });
  table.add(
      "sqrt",
      [](Generator& g) {
        return V{randu({2, 3}, g, 0.2, 3.0)};
      },
      [](const V& x) { return sqrt(x[0]); });
  table.add(
      "pow/2.5",
      [](Generator& g) {
        return V{randu({2, 3}, g, 0.2, 3.0)};
      },
      [](const V& x) { return pow(x[0], 2.5); });
  table.add(
      "pow/-1", [](Generator& g) { return V{randu({4}, g, 0.5, 3.0)}; }, [](const V& x) { return pow(x[0], -1.0); });
  table.add(
      "square",
      [](Generator& g) {
        return V{randn({2, 3}, g)};
      },
      [](const V& x) { return square(x[0]); });
  table.add(
      "sigmoid",
      [](Generator& g) {
        return V{randn({2, 3}, g, 3.0)};
      },
      [](const V& x) { return sigmoid(x[0]); });
  table.add(
      "silu",
      [](Generator& g) {
        return V{randn({2, 3}, g, 3.0)};
      },
      [](const V& x) { return silu(x[0]); });
  table.add(
      "relu",
      [](Generator& g) {
        return V{randn_away_from_zero({2, 5}, g)};
      },
      [](const V& x) { return relu(x[0]); });
  table.add(
      "tanh",
      [](Generator& g) {
        return V{randn({2, 3}, g)};
      },
      [](const V& x) { return tanh(x[0]); });

  table.add(
      "where/same",
      [](Generator& g) {
        return V{randmask({2, 3}, 0.5, g), randn({2, 3}, g), randn({2, 3}, g)};
      },
      [](const V& x) { return where(x[0], x[1], x[2]); });
  table.add(
      "where/broadcast_all",
      [](Generator& g) {
        return V{randmask({3, 1}, 0.5, g), randn({1, 4}, g), randn({2, 1, 1}, g)};
      },
      [](const V& x) { return where(x[0], x[1], x[2]); });
  table.add(
      "where/scalar_b_non_contiguous",
      [](Generator& g) {
        return V{randmask({3, 4}, 0.5, g), randn({4, 3}, g), randn({}, g)};
      },
      [](const V& x) { return where(x[0], transpose(x[1], 0, 1), x[2]); });

  table.add(
      "masked_fill/same",
      [](Generator& g) {
        return V{randn({3, 4}, g), randmask({3, 4}, 0.4, g)};
      },
      [](const V& x) { return masked_fill(x[0], x[1], -2.5); });
  table.add(
      "masked_fill/broadcast_mask",
      [](Generator& g) {
        return V{randn({2, 3, 4}, g), randmask({3, 1}, 0.5, g)};
      },
      [](const V& x) { return masked_fill(x[0], x[1], 0.0); });
  table.add(
      "masked_fill/non_contiguous",
      [](Generator& g) {
        return V{randn({4, 3}, g), randmask({4}, 0.5, g)};
      },
      [](const V& x) { return masked_fill(transpose(x[0], 0, 1), x[1], 1e4); });
}

// Comparisons and logical_not: UInt8 results, no gradient (forward-only
// cases), over every element type the backends compare.
SEQBOAT_OP_CASES(compare_cases) {
  table.add_forward(
      "compare/gt_broadcast", [](Generator& g) { return V{randn_data({2, 3, 4}, g), randn_data({4}, g)}; },
      [](const V& x) { return gt(x[0], x[1]); });
  table.add_forward(
      "compare/lt_non_contiguous", [](Generator& g) { return V{randn_data({4, 3}, g), randn_data({3, 4}, g)}; },
      [](const V& x) { return lt(transpose(x[0], 0, 1), x[1]); });
  table.add_forward(
      "compare/eq_some_equal",
      [](Generator& g) {
        Tensor a = randn_data({3, 4}, g), b = a.clone();
        b.set({0, 1}, 7.0);
        b.set({2, 3}, -1.0);
        return V{a, b};
      },
      [](const V& x) { return eq(x[0], x[1]); });
  table.add_forward(
      "compare/int64_gt_eq", [](Generator& g) { return V{randint({3, 5}, 4, g), randint({5}, 4, g)}; },
      [](const V& x) { return concat({gt(x[0], x[1]), eq(x[0], x[1])}, 0); });
  table.add_forward(
      "compare/uint8_lt_then_not", [](Generator& g) { return V{randmask({2, 6}, 0.5, g), randmask({2, 6}, 0.5, g)}; },
      [](const V& x) { return logical_not(lt(x[0], x[1])); });
}

}  // namespace seqboat::testing
