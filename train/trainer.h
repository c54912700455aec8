// train/trainer.h: the training loop behind `seqboat train`: batches, AdamW or
// SGD with warmup + decay, gradient clipping, periodic evaluation, progress
// output, metrics.jsonl, atomic checkpoints and exact resume.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace seqboat::train {

struct TrainOptions {
  std::string out_dir;
  bool resume = false;
  bool overwrite = false;    // without resume: replace a run already in out_dir (else that is an error)
  bool progress_bar = true;  // only used when stdout is a terminal
  int64_t stop_after = 0;    // > 0: stop (with a checkpoint) after this step, as an interruption would
};

struct TrainSummary {
  double test_loss = 0, test_accuracy = 0, bits_per_byte = 0;
  int64_t steps = 0;
  double train_seconds = 0;
  std::string checkpoint;
};

// Files in out_dir: config.json, metrics.jsonl, checkpoint.safetensors (and
// data/ for generated ListOps). Throws on bad config, I/O errors, or a
// non-finite loss/gradient (naming the step; the last good checkpoint stays).
// The config (validate_config), the checkpoint on resume, and the data are
// all checked before config.json or metrics.jsonl is written; an out_dir that
// already holds a run is refused without resume or overwrite.
TrainSummary run_training(const nlohmann::json& config, const TrainOptions& options);

}  // namespace seqboat::train
