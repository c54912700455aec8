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
  // Data-parallel runs (mpirun): every this many steps, compare a hash of the
  // parameters and optimizer state across ranks (0 = never); a difference
  // stops every rank with an error.
  int64_t check_replicas_every = 0;
};

struct TrainSummary {
  double test_loss = 0, test_accuracy = 0, bits_per_byte = 0;
  int64_t steps = 0;
  double train_seconds = 0;
  std::string checkpoint;
  bool primary = true;  // rank 0 (or the only process): it wrote the files and holds the results above
  int ranks = 1;
};

// Files in out_dir: config.json, metrics.jsonl, checkpoint.safetensors (and
// data/ for generated ListOps). Throws on bad config, I/O errors, or a
// non-finite loss/gradient (naming the step; the last good checkpoint stays).
// The config (validate_config), the checkpoint on resume, and the data are
// all checked before config.json or metrics.jsonl is written; an out_dir that
// already holds a run is refused without resume or overwrite.
//
// Started by mpirun (N ranks, dist::world()), it trains one model data-parallel
// (train/data_parallel.h): each rank computes its rows of every global batch
// and the gradients are summed over ranks before the step; rank 0 alone
// evaluates and writes config.json, metrics.jsonl and the checkpoint. Errors
// before and after the steps, and a non-finite loss or gradient, stop every
// rank alike; any other error on one rank ends the whole job (MPI_Abort).
TrainSummary run_training(const nlohmann::json& config, const TrainOptions& options);

}  // namespace seqboat::train
