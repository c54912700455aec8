// train/tasks.h: what a training task provides: data batches, the model, the
// loss, and evaluation. ListOps, associative recall and the released-data
// tasks (text, retrieval, image, pathfinder, speech) are sequence
// classification (SeqBoatModel over token ids or continuous values, padding
// mask, mean pooling over real tokens; retrieval classifies pairs); lm and
// enwik8 are byte-level causal language modelling (SeqBoatLM).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "data/bytes_corpus.h"
#include "data/example.h"
#include "nn/seqboat.h"
#include "train/routing_stats.h"

namespace seqboat::train {

struct Batch {
  Tensor tokens;   // (B, L) Int64 (a pair task: (2B, L), first then second documents)
  Tensor values;   // (B, L, 1) Float32 for continuous inputs (pixels, audio); then tokens is undefined
  Tensor padding;  // (B, L) UInt8, 1 at padding (classification only)
  Tensor labels;   // (B) Int64 for classification, (B, L) Int64 next bytes for lm
  int64_t real_tokens = 0;
  bool pair = false;  // tokens and padding hold 2B rows: the B first documents, then the B second ones
};

struct EvalResult {
  double loss = 0, accuracy = 0;
  int64_t examples = 0;
  // Per layer, over the evaluated batches: the share of real tokens routed to
  // attention and the mean attention span (train/routing_stats.h).
  std::vector<LayerStats> routing;
};

// A file a task needs written into the run directory (its generated data).
// Building a task never writes: the trainer writes these once it may change
// the run directory (train/run_dir.h), in order.
struct PendingFile {
  std::string path, bytes;
};
void write_pending_files(const std::vector<PendingFile>& files);

class Task {
 public:
  virtual ~Task() = default;
  virtual nn::Module& model() = 0;
  virtual Batch train_batch(int64_t step) = 0;  // a pure function of (seed, step) and the task's own saved state
  // Loss (mean over the batch) and the number of correct predictions.
  virtual Tensor loss(const Batch& b, DropoutRng& dropout, int64_t* correct, int64_t* counted) = 0;
  virtual EvalResult evaluate(const std::string& split, int64_t max_batches) = 0;
  virtual bool reports_bits_per_byte() const { return false; }
  // What the data reader skipped or chose (empty images, dropped clips, the
  // split sizes), for the run's log; empty when there is nothing to say.
  virtual std::string notes() const { return ""; }
  // Extra state to checkpoint (the lm sampler's position), as 4 words.
  virtual std::array<uint64_t, 4> sampler_state() const { return {0, 0, 0, 0}; }
  virtual void set_sampler_state(const std::array<uint64_t, 4>&) {}
  virtual std::vector<nn::SeqBoatLayer*> layers() = 0;
  // Where the model lives; batches (made on the CPU) are moved there by loss().
  Device device() const { return device_; }
  // One forward pass and loss on a small dummy batch, in eval mode without a
  // graph (nothing of the task or the model changes): what only running the
  // model reveals shows up here, before a run touches its directory.
  void probe();
  const std::vector<PendingFile>& pending_files() const { return pending_; }

 protected:
  virtual Batch dummy_batch() const = 0;
  Device device_ = Device::CPU;
  std::vector<PendingFile> pending_;
};

// Which data splits a task reads: training needs all three, `eval --split
// test` only the test split (an LRA test file is evaluated on its own),
// `generate` none. Each split that is read must hold examples.
struct Splits {
  bool train = true, val = true, test = true;
  static Splits none() { return {false, false, false}; }
  static Splits only(const std::string& split) { return {split == "train", split == "val", split == "test"}; }
};

// Builds the task from a resolved, validated flat config (validate_config),
// its model on `device`. out_dir holds generated data when no data.dir is
// given. Throws, naming the file or key, when the data cannot serve the
// config (an empty split, a batch larger than the training split, an lm
// corpus part shorter than a window).
std::unique_ptr<Task> make_task(const nlohmann::json& cfg, const std::string& out_dir, DType dt, Generator& init_gen,
                                Device device = Device::CPU, Splits splits = {});
nn::ModelConfig model_config(const nlohmann::json& cfg, int64_t vocab, int64_t classes);
// The model config of a validated config without reading its data: the
// vocabulary, classes and input kind (tokens; a pair of token documents;
// one value per position: d_input 1) each task's data gives
// (train/sources_*.cpp); lm and enwik8: bytes in, bytes out.
nn::ModelConfig task_model_config(const nlohmann::json& cfg);
// The model a validated config describes, built alone (no data) in float32
// on the CPU and run once on a dummy batch, as run_training does before it
// touches a run directory. A config that validate_config accepts must pass;
// the CLI fuzz harness checks that for small models.
void probe_config_model(const nlohmann::json& cfg);

// Classification data for inspection and evaluation.
struct ClassificationData {
  std::vector<data::SeqExample> train, val, test;
  int64_t vocab = 0, classes = 0;
  std::vector<PendingFile> pending;  // generated data still to write (see PendingFile)
};
// Reads (or, for listops without data.dir, generates for out_dir/data: again
// whenever the generator settings differ from those recorded in its
// generator.json; the files are then in `pending`, generator.json last) the
// splits asked for; a split read has examples. Generated data goes through
// the same reader (and its checks) as a file.
ClassificationData load_classification_data(const nlohmann::json& cfg, const std::string& out_dir, Splits splits);
Batch make_classification_batch(const std::vector<data::SeqExample>& ex, const std::vector<int64_t>& idx);
std::string token_label(const std::string& task, int32_t id);

// The source tree this binary was built from (the default lm corpus), or "."
// when the build did not record it.
std::string source_root();

}  // namespace seqboat::train
