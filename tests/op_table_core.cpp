// tests/op_table_core.cpp: op-table cases for pointwise ops, views, reductions
// and matrix products; broadcast and non-contiguous inputs included.
#include "op_table.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduce.h"
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
}

SEQBOAT_OP_CASES(shape_cases) {
  table.add(
      "reshape",
      [](Generator& g) {
        return V{randn({2, 6}, g)};
      },
      [](const V& x) {
        return mul(reshape(x[0], {3, -1}), reshape(x[0], {3, 4}));
      });
  table.add(
      "reshape/non_contiguous",
      [](Generator& g) {
        return V{randn({3, 4}, g)};
      },
      [](const V& x) {
        return reshape(transpose(x[0], 0, 1), {2, 6});
      });
  table.add(
      "permute",
      [](Generator& g) {
        return V{randn({2, 3, 4}, g)};
      },
      [](const V& x) {
        return permute(x[0], {2, 0, 1}).contiguous();
      });
  table.add(
      "transpose",
      [](Generator& g) {
        return V{randn({2, 3}, g)};
      },
      [](const V& x) { return transpose(x[0], 0, 1); });
  table.add(
      "narrow",
      [](Generator& g) {
        return V{randn({4, 5}, g)};
      },
      [](const V& x) { return narrow(x[0], 1, 1, 3); });
  table.add(
      "narrow/twice_overlapping", [](Generator& g) { return V{randn({6}, g)}; },
      [](const V& x) { return mul(narrow(x[0], 0, 0, 4), narrow(x[0], 0, 2, 4)); });
  table.add(
      "unsqueeze_squeeze",
      [](Generator& g) {
        return V{randn({3, 2}, g)};
      },
      [](const V& x) { return squeeze(mul(unsqueeze(x[0], 1), unsqueeze(x[0], 1)), 1); });
  table.add(
      "expand",
      [](Generator& g) {
        return V{randn({3, 1}, g)};
      },
      [](const V& x) {
        return expand(x[0], {2, 3, 4});
      });
  table.add(
      "contiguous",
      [](Generator& g) {
        return V{randn({3, 4}, g)};
      },
      [](const V& x) { return contiguous(transpose(x[0], 0, 1)); });
  table.add(
      "concat/dim1",
      [](Generator& g) {
        return V{randn({2, 3}, g), randn({2, 2}, g)};
      },
      [](const V& x) {
        return concat({x[0], x[1]}, 1);
      });
  table.add(
      "concat/non_contiguous",
      [](Generator& g) {
        return V{randn({3, 2}, g), randn({2, 2}, g)};
      },
      [](const V& x) {
        return concat({transpose(x[0], 0, 1), x[1]}, 1);
      });
  table.add(
      "split",
      [](Generator& g) {
        return V{randn({2, 5}, g)};
      },
      [](const V& x) {
        auto parts = split(x[0], {2, 3}, 1);
        return mul(sum(parts[0], {1}), sum(parts[1], {1}));
      });
  table.add(
      "split/three_parts_one_unused",
      [](Generator& g) {
        return V{randn({3, 7}, g)};
      },
      [](const V& x) {
        auto parts = split(x[0], {2, 1, 4}, 1);  // the middle part gets no gradient
        return add(mul(parts[0], parts[0]), narrow(parts[2], 1, 0, 2));
      });
  table.add(
      "split/dim0_non_contiguous",
      [](Generator& g) {
        return V{randn({4, 5}, g)};
      },
      [](const V& x) {
        auto parts = split(transpose(x[0], 0, 1), {3, 2}, 0);
        return concat({parts[1], parts[0]}, 0);
      });
  table.add(
      "pad",
      [](Generator& g) {
        return V{randn({2, 3}, g)};
      },
      [](const V& x) { return pad(x[0], 1, 2, 1, 0.5); });
  table.add(
      "cast/f64_f32_f64", [](Generator& g) { return V{randn({4}, g)}; },
      [](const V& x) { return cast(mul_scalar(cast(x[0], DType::Float32), 1.0), DType::Float64); },
      GradcheckOptions{1e-3, 1e-4, 1e-3});
}

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
}

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
