// train/task_classify.cpp: the sequence classification task over any
// TaskData (train/task_data.h): ListOps, recall and the released-data tasks.
#include <fmt/format.h>

#include <algorithm>

#include "data/listops.h"
#include "ops/elementwise.h"
#include "ops/nn_ops.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "train/task_data.h"

namespace seqboat::train {

using nlohmann::json;

namespace {

class ClassificationTask : public Task {
 public:
  ClassificationTask(const json& cfg, const std::string& out_dir, DType dt, Generator& gen, Device device, Splits splits)
      : data_(load_task_data(cfg, out_dir, splits)),
        splits_(splits),
        batch_(cfg.at("batch_size")),
        seed_(cfg.at("seed")),
        shuffle_args_(cfg.at("task") == "listops" && cfg.at("listops.shuffle_args").get<bool>()) {
    for (auto [src, name] : {std::pair{data_.train.get(), "training"}, {data_.val.get(), "validation"},
                             {data_.test.get(), "test"}})
      if (src && src->size() == 0)
        throw std::runtime_error(fmt::format("task {}: the {} split has no examples", cfg.at("task").get<std::string>(), name));
    // A batch is drawn without replacement from one epoch: more than the
    // split holds would repeat (pad with) examples.
    if (data_.train && static_cast<int64_t>(data_.train->size()) < batch_)
      throw std::runtime_error(fmt::format(
          "config key 'batch_size': {} is larger than the training split ({} examples); lower batch_size", batch_,
          data_.train->size()));
    nn::ModelConfig mc = model_config(cfg, data_.vocab, data_.classes);
    if (data_.kind == InputKind::Values) {
      mc.vocab_size = 0;
      mc.d_input = 1;
      mc.real_input_init = true;
    }
    mc.pair = data_.kind == InputKind::Pair;
    model_ = std::make_shared<nn::SeqBoatModel>(mc, dt, gen);
    dtype_ = dt;
    model_->to(device_ = device);
    if (data_.train) batches_per_epoch_ = std::max<int64_t>(1, static_cast<int64_t>(data_.train->size()) / batch_);
    // Generated data is written by the trainer once the run may change its
    // directory (every TSV row, generated or read, was checked by the reader).
    pending_ = std::move(data_.pending);
  }

  nn::Module& model() override { return *model_; }
  std::string notes() const override { return data_.notes; }
  std::vector<nn::SeqBoatLayer*> layers() override {
    std::vector<nn::SeqBoatLayer*> out;
    for (auto& l : model_->seq_layers) out.push_back(l.get());
    return out;
  }

  // Epoch e's order: a seeded shuffle, then length-bucketed batches (sorted
  // within windows of 50 batches, so a batch pads little), in shuffled order.
  Batch train_batch(int64_t step) override {
    if (!data_.train) throw std::logic_error("train_batch: the training split was not loaded");
    int64_t epoch = step / batches_per_epoch_, k = step % batches_per_epoch_;
    if (epoch != plan_epoch_) plan_epoch(epoch);
    std::vector<Sample> samples;
    for (int64_t j = k * batch_; j < (k + 1) * batch_; ++j) samples.push_back(data_.train->get(plan_[j]));
    if (shuffle_args_) {
      // A fresh argument order per draw, seeded by (seed, step) so that resume
      // reproduces it without saving state.
      Generator aug((seed_ << 32) ^ (0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step)));
      for (Sample& s : samples) s.tokens = data::listops_shuffle_arguments(s.tokens, aug);
    }
    return make_batch(data_.kind, samples);
  }

  Batch dummy_batch() const override {
    std::vector<Sample> one(1);
    if (data_.kind == InputKind::Values) one[0].values.assign(8, 0.0f);
    else one[0].tokens.assign(8, 1);
    if (data_.kind == InputKind::Pair) one[0].tokens2.assign(8, 1);
    return make_batch(data_.kind, one);
  }

  Tensor loss(const Batch& b, DropoutRng& rng, int64_t* correct, int64_t* counted) override {
    const Tensor pad = b.padding.to(device_);
    // Values are batched in float32 and computed in the model's dtype.
    auto values = [&] {
      return b.values.dtype() == dtype_ ? b.values.to(device_) : cast(b.values, dtype_).to(device_);
    };
    Tensor logits = data_.kind == InputKind::Pair     ? model_->forward_pair(b.tokens.to(device_), pad, rng)
                    : data_.kind == InputKind::Values ? model_->forward(values(), pad, rng)
                                                      : model_->forward(b.tokens.to(device_), pad, rng);
    if (correct) *correct = count_correct(logits, b.labels);
    if (counted) *counted = b.labels.numel();
    return cross_entropy(logits, b.labels);
  }

  EvalResult evaluate(const std::string& split, int64_t max_batches) override {
    SplitSource* src = split == "val" ? data_.val.get() : split == "test" ? data_.test.get() : data_.train.get();
    if (!src) throw std::logic_error(fmt::format("evaluate: the {} split was not loaded for this task", split));
    // Sorted by length so batches pad little; order does not change the result.
    std::vector<size_t> order(src->size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return src->length(a) < src->length(b); });
    size_t at = 0;
    int64_t nb = 0;
    return run_eval(*this, split, [&](Batch& b) {
      if (at >= order.size() || (max_batches > 0 && nb++ >= max_batches)) return false;
      const size_t end = std::min(order.size(), at + static_cast<size_t>(batch_));
      std::vector<Sample> samples;
      for (size_t j = at; j < end; ++j) samples.push_back(src->get(order[j]));
      b = make_batch(data_.kind, samples);
      at = end;
      return true;
    });
  }

 private:
  void plan_epoch(int64_t epoch) {
    const int64_t n = static_cast<int64_t>(data_.train->size());
    Generator g(seed_ * 1000003ULL + static_cast<uint64_t>(epoch));
    std::vector<int64_t> perm(n);
    for (int64_t i = 0; i < n; ++i) perm[i] = i;
    for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[g.next_below(static_cast<uint64_t>(i + 1))]);
    perm.resize(static_cast<size_t>(batches_per_epoch_ * batch_));
    const int64_t window = 50 * batch_;
    for (int64_t s = 0; s < static_cast<int64_t>(perm.size()); s += window) {
      auto first = perm.begin() + s, last = perm.begin() + std::min<int64_t>(s + window, perm.size());
      std::stable_sort(first, last, [&](int64_t a, int64_t b) { return data_.train->length(a) < data_.train->length(b); });
    }
    std::vector<int64_t> order(batches_per_epoch_);
    for (int64_t i = 0; i < batches_per_epoch_; ++i) order[i] = i;
    for (int64_t i = batches_per_epoch_ - 1; i > 0; --i)
      std::swap(order[i], order[g.next_below(static_cast<uint64_t>(i + 1))]);
    plan_.clear();
    for (int64_t bi : order) plan_.insert(plan_.end(), perm.begin() + bi * batch_, perm.begin() + (bi + 1) * batch_);
    plan_epoch_ = epoch;
  }

  TaskData data_;
  Splits splits_;
  int64_t batch_;
  uint64_t seed_;
  bool shuffle_args_;
  std::shared_ptr<nn::SeqBoatModel> model_;
  DType dtype_ = DType::Float32;
  int64_t batches_per_epoch_ = 1;
  int64_t plan_epoch_ = -1;
  std::vector<int64_t> plan_;
};

}  // namespace

std::unique_ptr<Task> make_classification_task(const json& cfg, const std::string& out_dir, DType dt, Generator& gen,
                                               Device device, Splits splits) {
  return std::make_unique<ClassificationTask>(cfg, out_dir, dt, gen, device, splits);
}

}  // namespace seqboat::train
