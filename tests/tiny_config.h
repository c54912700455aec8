// tests/tiny_config.h: the smallest recall run the trainer tests use (two
// steps of a width-8 model on 16 sequences), with extra --set overrides.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/config.h"

namespace seqboat::testing {

inline nlohmann::json tiny_recall(std::vector<std::string> extra = {}) {
  std::vector<std::string> sets = {"steps=2",           "batch_size=4",    "eval_every=0",     "warmup_steps=1",
                                   "recall.n_train=16", "recall.n_test=8", "recall.n_pairs=2", "recall.n_keys=4",
                                   "recall.n_values=4", "model.d_model=8", "model.d_qk=4",     "model.d_ema=2",
                                   "model.mem_size=4"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return train::resolve_config("recall", "", sets);
}

}  // namespace seqboat::testing
