// tests/op_table_optim.cpp: op-table cases of the optim family (ops/optim.h):
// the in-place AdamW and SGD updates and the gradient-norm utilities. None
// has a gradient, so each is a forward-only case: its result (the updated
// tensors, or the scalar it computes) is compared across devices; the
// formulas themselves are checked against scalar loops in tests/test_optim.cpp.
#include <cmath>

#include "op_table.h"
#include "ops/optim.h"
#include "ops/shape.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

namespace {

// The tensors an update changed, flattened and concatenated.
Tensor flat(const V& xs) {
  V parts;
  for (const Tensor& x : xs) parts.push_back(reshape(x, {-1}));
  return concat(parts, 0);
}

// A scalar result as a 1-element tensor on the device of `like`.
Tensor scalar_like(double v, const Tensor& like) { return from_vector({v}, {1}, like.dtype()).to(like.device()); }

}  // namespace

SEQBOAT_OP_CASES(optim_cases) {
  // Step 3 of AdamW: moments and bias corrections of a run in progress.
  table.add_forward(
      "adamw_step",
      [](Generator& g) {
        return V{randn_data({3, 5}, g), randn_data({3, 5}, g), randn_data({3, 5}, g, 0.1),
                 rand_uniform({3, 5}, 0.01, 0.5, DType::Float64, &g)};
      },
      [](const V& x) {
        const double lr = 0.01, b1 = 0.9, b2 = 0.999;
        adamw_update(x[0], x[1], x[2], x[3],
                     AdamScalars{lr, lr * 0.1, b1, b2, 1e-8, 1 - std::pow(b1, 3), 1 - std::pow(b2, 3)});
        return flat({x[0], x[2], x[3]});
      });
  struct Sgd {
    const char* name;
    double momentum;
    bool nesterov, first;
  };
  for (Sgd s : {Sgd{"plain", 0, false, false}, Sgd{"momentum_first", 0.9, false, true},
                Sgd{"momentum", 0.9, false, false}, Sgd{"nesterov", 0.9, true, false}})
    table.add_forward(
        std::string("sgd_step/") + s.name,
        [](Generator& g) { return V{randn_data({4, 3}, g), randn_data({4, 3}, g), randn_data({4, 3}, g)}; },
        [s](const V& x) {
          const Tensor buf = s.momentum > 0 ? x[2] : Tensor();
          sgd_update(x[0], x[1], buf, SgdScalars{0.05, s.momentum, 1e-2, s.nesterov, s.first});
          return flat({x[0], x[2]});
        });
  table.add_forward(
      "sum_of_squares", [](Generator& g) { return V{randn_data({5000}, g)}; },
      [](const V& x) { return scalar_like(sum_of_squares(x[0]), x[0]); });
  table.add_forward(
      "scale_inplace", [](Generator& g) { return V{randn_data({2, 7}, g)}; },
      [](const V& x) {
        scale_(x[0], -0.37);
        return x[0];
      });
  for (bool finite : {true, false})
    table.add_forward(
        finite ? "all_finite/finite" : "all_finite/one_inf",
        [finite](Generator& g) {
          Tensor t = randn_data({5000}, g);
          if (!finite) t.set({4321}, INFINITY);
          return V{t};
        },
        [](const V& x) { return scalar_like(all_finite(x[0]) ? 1.0 : 0.0, x[0]); });
}

}  // namespace seqboat::testing
