// tests/op_table_shape.cpp: op-table cases of the shape family
// (ops/shape.h): views, copies, concatenation and dtype casts, contiguous and
// not.
#include "op_table.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

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
  // Casts from the integer types (no gradient: the inputs are integers).
  table.add_forward(
      "cast/int64_to_float", [](Generator& g) { return V{randint({2, 5}, 1000, g)}; },
      [](const V& x) { return cast(add_scalar(cast(x[0], DType::Float64), -500.0), DType::Int64); });
  table.add_forward(
      "cast/uint8_to_float", [](Generator& g) { return V{randmask({3, 4}, 0.5, g)}; },
      [](const V& x) { return cast(cast(x[0], DType::Float32), DType::UInt8); });
}

}  // namespace seqboat::testing
