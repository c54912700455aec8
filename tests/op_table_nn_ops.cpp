// tests/op_table_nn_ops.cpp: op-table cases of the nn_ops family
// (ops/nn_ops.h): softmax and log_softmax, cross_entropy with ignored rows,
// layer_norm and batch_norm (training and eval), embedding and dropout. Ops
// with state are made pure per evaluation: dropout draws from a Generator
// seeded inside the case, batch_norm training gets fresh running stats
// every call.
#include "op_table.h"
#include "ops/nn_ops.h"
#include "ops/shape.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

namespace {

// Class targets in [0, classes) with the rows in `ignored` set to ignore_index.
Tensor targets_with_ignored(int64_t n, int64_t classes, const std::vector<int64_t>& ignored, int64_t ignore_index,
                            Generator& g) {
  Tensor t = randint({n}, classes, g);
  for (int64_t i : ignored) t.data<int64_t>()[i] = ignore_index;
  return t;
}

Tensor positive(const Shape& s, Generator& g) { return rand_uniform(s, 0.5, 2.0, DType::Float64, &g); }

}  // namespace

SEQBOAT_OP_CASES(softmax_cases) {
  struct Family {
    const char* name;
    Tensor (*op)(const Tensor&, int64_t);
  };
  for (Family f : {Family{"softmax", softmax}, Family{"log_softmax", log_softmax}}) {
    std::string n = f.name;
    auto op = f.op;
    table.add(
        n + "/last",
        [](Generator& g) {
          return V{randn({3, 5}, g, 2.0)};
        },
        [op](const V& x) { return op(x[0], -1); });
    table.add(
        n + "/dim0",
        [](Generator& g) {
          return V{randn({4, 3}, g, 2.0)};
        },
        [op](const V& x) { return op(x[0], 0); });
    table.add(
        n + "/middle",
        [](Generator& g) {
          return V{randn({2, 4, 3}, g, 2.0)};
        },
        [op](const V& x) { return op(x[0], 1); });
    table.add(
        n + "/non_contiguous",
        [](Generator& g) {
          return V{randn({4, 2, 3}, g, 2.0)};
        },
        [op](const V& x) {
          return op(permute(x[0], {1, 2, 0}), -1);
        });
    table.add(
        n + "/large_offset",
        [](Generator& g) {
          return V{randu({2, 4}, g, 500.0, 503.0)};
        },
        [op](const V& x) { return op(x[0], 1); });
  }
}

SEQBOAT_OP_CASES(cross_entropy_cases) {
  table.add(
      "cross_entropy/basic",
      [](Generator& g) {
        return V{randn({4, 5}, g, 2.0), randint({4}, 5, g)};
      },
      [](const V& x) { return cross_entropy(x[0], x[1]); });
  table.add(
      "cross_entropy/some_ignored",
      [](Generator& g) {
        return V{randn({5, 3}, g, 2.0), targets_with_ignored(5, 3, {1, 3}, -100, g)};
      },
      [](const V& x) { return cross_entropy(x[0], x[1]); });
  table.add(
      "cross_entropy/custom_ignore_non_contiguous",
      [](Generator& g) {
        return V{randn({4, 6}, g), targets_with_ignored(6, 4, {0}, 7, g)};
      },
      [](const V& x) { return cross_entropy(transpose(x[0], 0, 1), x[1], 7); });
  table.add(
      "cross_entropy/long_batch",  // 300 rows: the block path of reduce_rows (cuda/exec.h)
      [](Generator& g) {
        return V{randn({300, 2}, g, 2.0), targets_with_ignored(300, 2, {5, 17, 299}, -100, g)};
      },
      [](const V& x) { return cross_entropy(x[0], x[1]); });
  table.add(
      "cross_entropy/all_ignored",
      [](Generator& g) {
        return V{randn({3, 4}, g), targets_with_ignored(3, 4, {0, 1, 2}, -100, g)};
      },
      [](const V& x) { return cross_entropy(x[0], x[1]); });
}

SEQBOAT_OP_CASES(layer_norm_cases) {
  table.add(
      "layer_norm/affine",
      [](Generator& g) {
        return V{randn({3, 6}, g), randn({6}, g), randn({6}, g)};
      },
      [](const V& x) { return layer_norm(x[0], x[1], x[2]); });
  table.add(
      "layer_norm/no_affine_3d",
      [](Generator& g) {
        return V{randn({2, 3, 4}, g, 2.0)};
      },
      [](const V& x) { return layer_norm(x[0], Tensor(), Tensor()); });
  table.add(
      "layer_norm/weight_only",
      [](Generator& g) {
        return V{randn({4, 5}, g), randn({5}, g)};
      },
      [](const V& x) { return layer_norm(x[0], x[1], Tensor(), 1e-3); });
  table.add(
      "layer_norm/long_batch",  // dw, db summed over 300 rows: the block path of reduce_rows
      [](Generator& g) {
        return V{randn({300, 2}, g), randn({2}, g), randn({2}, g)};
      },
      [](const V& x) { return layer_norm(x[0], x[1], x[2]); });
  table.add(
      "layer_norm/non_contiguous_affine",
      [](Generator& g) {
        return V{randn({5, 2, 3}, g), randn({5}, g), randn({5}, g)};
      },
      [](const V& x) {
        return layer_norm(permute(x[0], {1, 2, 0}), x[1], x[2]);
      });
}

SEQBOAT_OP_CASES(batch_norm_cases) {
  // Training mutates the running stats: each evaluation gets fresh ones.
  auto train = [](const Tensor& x, const Tensor& w, const Tensor& b) {
    int64_t c = x.size(-1);
    return batch_norm(x, w, b, zeros({c}, x.dtype(), x.device()), ones({c}, x.dtype(), x.device()), true, 0.1, 1e-5);
  };
  table.add(
      "batch_norm/train_2d",
      [](Generator& g) {
        return V{randn({6, 3}, g), randn({3}, g), randn({3}, g)};
      },
      [train](const V& x) { return train(x[0], x[1], x[2]); });
  table.add(
      "batch_norm/train_3d",
      [](Generator& g) {
        return V{randn({2, 4, 3}, g, 2.0), randn({3}, g), randn({3}, g)};
      },
      [train](const V& x) { return train(x[0], x[1], x[2]); });
  table.add(
      "batch_norm/train_no_affine_non_contiguous",
      [](Generator& g) {
        return V{randn({4, 5}, g)};
      },
      [train](const V& x) { return train(transpose(x[0], 0, 1), Tensor(), Tensor()); });
  table.add(
      "batch_norm/train_long_batch",  // statistics and dw, db over 300 rows: the block path of reduce_rows
      [](Generator& g) {
        return V{randn({300, 2}, g), randn({2}, g), randn({2}, g)};
      },
      [train](const V& x) { return train(x[0], x[1], x[2]); });
  table.add(
      "batch_norm/train_no_running_stats",
      [](Generator& g) {
        return V{randn({5, 2}, g), randn({2}, g)};
      },
      [](const V& x) { return batch_norm(x[0], x[1], Tensor(), Tensor(), Tensor(), true); });
  table.add(
      "batch_norm/eval",
      [](Generator& g) {
        return V{randn({2, 3, 4}, g), randn({4}, g), randn({4}, g), rand_normal({4}, 0.0, 1.0, DType::Float64, &g),
                 positive({4}, g)};
      },
      [](const V& x) { return batch_norm(x[0], x[1], x[2], x[3], x[4], false); });
  table.add(
      "batch_norm/eval_no_affine_non_contiguous",
      [](Generator& g) {
        return V{randn({3, 4}, g), rand_normal({4}, 0.0, 1.0, DType::Float64, &g), positive({4}, g)};
      },
      [](const V& x) {
        return batch_norm(transpose(x[0], 0, 1), Tensor(), Tensor(), narrow(x[1], 0, 0, 3), narrow(x[2], 0, 1, 3),
                          false);
      });
}

SEQBOAT_OP_CASES(embedding_dropout_cases) {
  table.add(
      "embedding/repeated",
      [](Generator& g) {
        return V{randn({5, 3}, g), randint({8}, 3, g)};
      },
      [](const V& x) { return embedding(x[0], x[1]); });
  table.add(
      "embedding/300_positions",  // the CUDA kernels' bucket counts take the block path of reduce_rows
      [](Generator& g) {
        return V{randn({7, 3}, g), randint({300}, 6, g)};  // index 6 is never drawn: an empty bucket
      },
      [](const V& x) { return embedding(x[0], x[1]); });
  table.add(
      "embedding/2d_index",
      [](Generator& g) {
        return V{randn({6, 4}, g), randint({2, 3}, 6, g)};
      },
      [](const V& x) { return embedding(x[0], x[1]); });
  table.add(
      "embedding/non_contiguous_weight",
      [](Generator& g) {
        return V{randn({3, 5}, g), randint({4}, 5, g)};
      },
      [](const V& x) { return embedding(transpose(x[0], 0, 1), x[1]); });
  table.add(
      "dropout/p0.3",
      [](Generator& g) {
        return V{randn({4, 5}, g)};
      },
      [](const V& x) {
        DropoutRng rng{1234, 0};  // same mask every evaluation
        return dropout(x[0], 0.3, true, rng);
      });
  table.add(
      "dropout/non_contiguous",
      [](Generator& g) {
        return V{randn({3, 4}, g)};
      },
      [](const V& x) {
        DropoutRng rng{99, 5};
        return dropout(transpose(x[0], 0, 1), 0.5, true, rng);
      });
  table.add(
      "dropout/eval_identity",
      [](Generator& g) {
        return V{randn({2, 3}, g)};
      },
      [](const V& x) {
        DropoutRng rng{7, 0};
        return dropout(x[0], 0.5, false, rng);
      });
}

}  // namespace seqboat::testing
