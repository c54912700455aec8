// train/task_data.h: what the classification tasks read, independent of
// where it comes from: a split is a SplitSource (examples by index, fetched
// from memory or from disk when a batch needs them), a task's data is three
// splits plus what the model needs to know (input kind, vocabulary,
// classes). The readers of the released files (train/sources_*.cpp) build
// these; the generic classification task (train/task_classify.cpp) batches
// them. Internal to train/.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/example.h"
#include "train/tasks.h"

namespace seqboat::train {

// One example: token ids (tokens; tokens2 = the second document of a pair)
// or continuous values (one per position), and its class.
struct Sample {
  std::vector<int32_t> tokens, tokens2;
  std::vector<float> values;
  int label = 0;
};

enum class InputKind { Tokens, Values, Pair };

class SplitSource {
 public:
  virtual ~SplitSource() = default;
  virtual size_t size() const = 0;
  // Sequence length of example i (a pair: the longer document), for batching
  // sequences of similar length together.
  virtual int64_t length(size_t i) const = 0;
  virtual Sample get(size_t i) = 0;  // may read from disk; throws naming the file
};

// Examples held in memory (recall, and ListOps generated for this run).
class VectorSource : public SplitSource {
 public:
  explicit VectorSource(std::vector<data::SeqExample> ex) : ex_(std::move(ex)) {}
  size_t size() const override { return ex_.size(); }
  int64_t length(size_t i) const override { return static_cast<int64_t>(ex_[i].tokens.size()); }
  Sample get(size_t i) override { return Sample{ex_[i].tokens, {}, {}, ex_[i].label}; }
  const std::vector<data::SeqExample>& examples() const { return ex_; }

 private:
  std::vector<data::SeqExample> ex_;
};

struct TaskData {
  std::unique_ptr<SplitSource> train, val, test;  // null when not asked for (Splits)
  InputKind kind = InputKind::Tokens;
  int64_t vocab = 0;  // token kinds; 0 for continuous input
  int64_t classes = 0;
  std::string notes;  // what the reader skipped or chose, printed once by the trainer
  std::vector<PendingFile> pending;  // generated data still to write (listops without data.dir)
};

// The data of any classification task (listops, recall, text, retrieval,
// image, pathfinder, speech), splits as asked. Throws naming the file,
// folder or key when the release cannot serve the config.
TaskData load_task_data(const nlohmann::json& cfg, const std::string& out_dir, Splits splits);

// The released-file readers (train/sources_lra.cpp, train/sources_speech.cpp),
// and ListOps (train/tasks.cpp): files indexed (data/listops_tsv.h), or
// generated for this run and held as generated.
TaskData load_listops_data(const nlohmann::json& cfg, const std::string& out_dir, Splits splits);
TaskData load_text_data(const nlohmann::json& cfg, Splits splits);
TaskData load_retrieval_data(const nlohmann::json& cfg, Splits splits);
TaskData load_image_data(const nlohmann::json& cfg, Splits splits);
TaskData load_pathfinder_data(const nlohmann::json& cfg, Splits splits);
TaskData load_speech_data(const nlohmann::json& cfg, Splits splits);

// A batch of samples (padding at the end of shorter rows, mask 1 there):
// Tokens -> tokens (B, L); Values -> values (B, L, 1) float32; Pair ->
// tokens (2B, L), the first documents, then the second ones.
Batch make_batch(InputKind kind, std::vector<Sample>& samples);

// A seeded permutation of 0..n-1 (Fisher-Yates over seqboat's Generator
// seeded with `seed`), the basis of every split rule the releases leave open.
std::vector<size_t> seeded_permutation(size_t n, uint64_t seed);
// Per-task salts mixed into the run seed for the split permutations.
inline uint64_t split_seed(uint64_t seed, uint64_t salt) { return seed * 0x9E3779B97F4A7C15ULL ^ salt; }

// The two kinds of task (train/task_classify.cpp, train/task_lm.cpp).
std::unique_ptr<Task> make_classification_task(const nlohmann::json& cfg, const std::string& out_dir, DType dt,
                                               Generator& gen, Device device, Splits splits);
std::unique_ptr<Task> make_lm_task(const nlohmann::json& cfg, DType dt, Generator& gen, Device device, Splits splits);

// Averages loss and accuracy (and the routing statistics of every layer)
// over the batches `next` yields, in eval mode, without a graph.
EvalResult run_eval(Task& task, const std::string& split, const std::function<bool(Batch&)>& next);

// Rows of logits (N, C) whose argmax equals the label (labels < 0 never
// match: argmax >= 0).
int64_t count_correct(const Tensor& logits, const Tensor& labels);

}  // namespace seqboat::train
