// train/run_loader.h: reopens a finished (or interrupted) training run from
// its checkpoint: the config it was trained with, the task and the trained
// model, ready to evaluate. Used by `seqboat eval`, `generate` and `inspect`.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "train/tasks.h"

namespace seqboat::train {

struct LoadedRun {
  nlohmann::json cfg;          // the checkpoint's config, data.dir resolved
  std::unique_ptr<Task> task;  // built from cfg (Float32), weights loaded, in eval mode
  int64_t step = 0;            // the step the checkpoint was saved at
  std::string run_dir;         // the checkpoint's directory
};

// Loads `checkpoint` and rebuilds its run. task_name, when not empty, must be
// the task the checkpoint was trained on (else std::invalid_argument naming
// the checkpoint and both tasks). data.dir becomes data_dir when that is not
// empty; a listops run trained on generated data (empty data.dir) reads it
// back from <run_dir>/data. Errors reading the checkpoint or the data
// propagate, naming the file.
// The model is placed on `device` (whatever device it was trained on). Only
// the data splits in `splits` are read. The checkpoint's config is validated
// as a --set is (parse_run_config): a bad value is an error naming the
// checkpoint and the key. Weights that are not finite (NaN, infinity) are an
// error naming the first such tensor and index, unless allow_nonfinite (to
// look at a broken run on purpose). Every problem of the checkpoint is a
// std::runtime_error naming it; only a task_name that does not match is a
// UsageError.
LoadedRun load_run(const std::string& checkpoint, const std::string& task_name, const std::string& data_dir,
                   Device device = Device::CPU, Splits splits = {}, bool allow_nonfinite = false);

}  // namespace seqboat::train
