// train/metrics.h: the trainer's metrics.jsonl, written and read here: one
// JSON object per line, one line per event ("train", "eval", "resume",
// "final"). MetricsLog is what run_training writes with; read_metrics_jsonl is
// what the report (loss curve) reads back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tensor/atomic_file.h"

namespace seqboat::train {

// Appends events as JSON lines, flushed after each one. On resume, events
// after the checkpoint's step (and the old "final" event) are dropped first,
// so the file reads as one run; otherwise the file starts empty. Lines that
// are not JSON or have no "step" are dropped too. The rewrite is atomic.
// Throws std::runtime_error naming the path when it cannot be read or written.
class MetricsLog {
 public:
  MetricsLog(const std::filesystem::path& path, bool resume, int64_t resume_step);
  void write(const nlohmann::json& event);

 private:
  std::unique_ptr<AppendFile> out_;
};

// Training curves as (step, value) pairs, in file order.
struct MetricsSeries {
  std::vector<std::pair<double, double>> train_loss, val_loss, val_accuracy;
};

// Reads a trainer's metrics.jsonl: one JSON object per line,
//   {"event":"train","step":10,"loss":2.3,...}          -> train_loss
//   {"event":"eval","step":100,"val_loss":..,"val_accuracy":..}
//                                                        -> val_loss, val_accuracy
// Other events ("final", ...) and other keys are ignored; so are blank lines.
// "val_loss"/"val_accuracy" are each optional in an eval line; a metric that is
// null (how non-finite numbers get written) is skipped. Throws
// std::runtime_error naming the file and the 1-based line number when the
// file cannot be read, a line is not a JSON object, a train/eval line has no
// numeric "step", or a metric is neither a number nor null.
MetricsSeries read_metrics_jsonl(const std::string& path);

}  // namespace seqboat::train
