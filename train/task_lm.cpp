// train/task_lm.cpp: byte-level causal language modelling: `lm` (a corpus of
// files in memory, the project's own source by default) and `enwik8` (the
// released file, read in windows from disk: train/valid/test byte ranges
// from data/enwik8.h). Loss in nats per byte; bits per byte = loss / ln 2.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "data/bytes_corpus.h"
#include "data/enwik8.h"
#include "ops/elementwise.h"
#include "ops/nn_ops.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "tensor/usage_error.h"
#include "train/task_data.h"

namespace seqboat::train {

using nlohmann::json;

namespace {

// Loss of a (B, L) batch of next-byte predictions.
Tensor lm_loss(nn::SeqBoatLM& model, const Batch& b, Device device, DropoutRng& rng, int64_t* correct, int64_t* counted) {
  Tensor logits = model.forward(b.tokens.to(device), rng);  // (B, L, V)
  Tensor flat = reshape(logits, {-1, logits.size(-1)});
  Tensor y = reshape(b.labels, {-1});
  if (correct) *correct = count_correct(flat, y);
  if (counted) *counted = y.numel();
  return cross_entropy(flat, y);
}

// What the two byte-level language-model tasks share: the model over the 256
// byte values, its loss, the splitmix64 window sampler's state, bits per byte.
class ByteLMTask : public Task {
 public:
  nn::Module& model() override { return *model_; }
  std::vector<nn::SeqBoatLayer*> layers() override {
    std::vector<nn::SeqBoatLayer*> out;
    for (auto& l : model_->seq_layers) out.push_back(l.get());
    return out;
  }
  bool reports_bits_per_byte() const override { return true; }
  std::array<uint64_t, 4> sampler_state() const override { return {rng_, 0, 0, 0}; }
  void set_sampler_state(const std::array<uint64_t, 4>& s) override { rng_ = s[0]; }
  Tensor loss(const Batch& b, DropoutRng& rng, int64_t* correct, int64_t* counted) override {
    return lm_loss(*model_, b, device_, rng, correct, counted);
  }

 protected:
  Batch dummy_batch() const override {
    const int64_t L = std::min<int64_t>(seq_len_, 8);
    Batch b;
    b.tokens = from_vector_i64(std::vector<int64_t>(static_cast<size_t>(L), 0), {1, L});
    b.labels = from_vector_i64(std::vector<int64_t>(static_cast<size_t>(L), 0), {1, L});
    return b;
  }

  explicit ByteLMTask(const json& cfg)
      : batch_(cfg.at("batch_size")), seq_len_(cfg.at("lm.seq_len")), eval_windows_(cfg.at("lm.eval_windows")) {}
  // Each task's constructor calls this last, once its data checked out.
  void build_model(const json& cfg, DType dt, Generator& gen, Device device) {
    rng_ = static_cast<uint64_t>(cfg.at("seed").get<int64_t>()) * 0x9E3779B97F4A7C15ULL + 1;
    model_ = std::make_shared<nn::SeqBoatLM>(model_config(cfg, data::kByteVocab, data::kByteVocab), dt, gen);
    model_->to(device_ = device);
  }

  int64_t batch_, seq_len_, eval_windows_;
  uint64_t rng_ = 0;
  std::shared_ptr<nn::SeqBoatLM> model_;
};

class LMTask : public ByteLMTask {
 public:
  LMTask(const json& cfg, DType dt, Generator& gen, Device device, Splits splits)
      : ByteLMTask(cfg) {
    if (splits.train || splits.val || splits.test) {  // generate needs no corpus
      std::vector<std::string> paths = cfg.at("data.paths").get<std::vector<std::string>>();
      data::ByteCorpus corpus =
          paths.empty() ? data::ByteCorpus::from_source_tree(source_root()) : data::ByteCorpus::from_files(paths);
      auto [train, val] = corpus.split(cfg.at("lm.val_fraction").get<double>());
      // Every window reads seq_len + 1 bytes (inputs and next-byte labels).
      auto check = [&](const data::ByteCorpus& part, const char* name) {
        if (static_cast<int64_t>(part.size()) < seq_len_ + 1)
          throw std::runtime_error(fmt::format(
              "lm: the {} part of the corpus is {} bytes, shorter than a window (lm.seq_len + 1 = {}); lower "
              "lm.seq_len, change lm.val_fraction or add data",
              name, part.size(), seq_len_ + 1));
      };
      if (splits.train) check(train, "training");
      if (splits.val || splits.test) check(val, "validation");
      train_.emplace(std::move(train));
      val_.emplace(std::move(val));
    }
    build_model(cfg, dt, gen, device);
  }

  Batch train_batch(int64_t) override {
    if (!train_) throw std::logic_error("train_batch: this lm task was built without its corpus");
    return sample(*train_, rng_);
  }

  EvalResult evaluate(const std::string& split, int64_t) override {
    if (!train_ || !val_) throw std::logic_error("evaluate: this lm task was built without its corpus");
    const data::ByteCorpus& c = split == "train" ? *train_ : *val_;
    // Fixed, evenly spaced windows: the same every evaluation.
    const int64_t span = static_cast<int64_t>(c.size()) - seq_len_ - 1;
    int64_t w0 = 0;
    return run_eval(*this, split, [&](Batch& b) {
      if (w0 >= eval_windows_) return false;
      int64_t nb = std::min(batch_, eval_windows_ - w0);
      std::vector<int64_t> tokens(static_cast<size_t>(nb * seq_len_)), labels(tokens.size());
      for (int64_t i = 0; i < nb; ++i) {
        int64_t start = span <= 0 ? 0 : (w0 + i) * span / std::max<int64_t>(1, eval_windows_ - 1);
        for (int64_t t = 0; t < seq_len_; ++t) {
          tokens[i * seq_len_ + t] = c.bytes()[start + t];
          labels[i * seq_len_ + t] = c.bytes()[start + t + 1];
        }
      }
      b.tokens = from_vector_i64(tokens, {nb, seq_len_});
      b.labels = from_vector_i64(labels, {nb, seq_len_});
      w0 += nb;
      return true;
    });
  }

 private:
  Batch sample(const data::ByteCorpus& c, uint64_t& rng) {
    std::vector<int32_t> in, target;
    c.sample_batch(static_cast<int>(batch_), static_cast<int>(seq_len_), rng, in, target);
    Batch b;
    b.tokens = from_vector_i64(std::vector<int64_t>(in.begin(), in.end()), {batch_, seq_len_});
    b.labels = from_vector_i64(std::vector<int64_t>(target.begin(), target.end()), {batch_, seq_len_});
    b.real_tokens = batch_ * seq_len_;
    return b;
  }

  std::optional<data::ByteCorpus> train_, val_;  // the corpus has no empty state
};


// enwik8: windows of the released file, never the whole file in memory.
// Training: lm.seq_len + 1 bytes at uniformly drawn starts in the training
// range (splitmix64 sampler, checkpointed). Evaluation: lm.eval_windows
// evenly spaced windows of the split, or with lm.eval_windows = 0 the whole
// split in consecutive windows (the last one shorter), every byte after the
// first predicted once.
class Enwik8Task : public ByteLMTask {
 public:
  Enwik8Task(const json& cfg, DType dt, Generator& gen, Device device, Splits splits)
      : ByteLMTask(cfg) {
    if (splits.train || splits.val || splits.test) {
      const std::string dir = cfg.at("data.dir");
      if (dir.empty()) throw UsageError("task enwik8: set data.dir to the folder holding the file enwik8");
      splits_ = data::open_enwik8(dir, cfg.at("enwik8.split") == "proportional");
      for (auto [span, name] : {std::pair{splits_.train, "training"}, {splits_.val, "validation"}, {splits_.test, "test"}})
        if (span.size < 2 || (std::string(name) == "training" && static_cast<int64_t>(span.size) < seq_len_ + 1))
          throw std::runtime_error(fmt::format("{}: the {} range is {} bytes, shorter than a window (lm.seq_len + 1 = {})",
                                               splits_.file->path(), name, span.size, seq_len_ + 1));
      notes_ = fmt::format("enwik8: {} bytes; train {}, validation {}, test {} bytes", splits_.file->size(),
                           splits_.train.size, splits_.val.size, splits_.test.size);
    }
    build_model(cfg, dt, gen, device);
  }

  std::string notes() const override { return notes_; }
  Batch train_batch(int64_t) override {
    if (!splits_.file) throw std::logic_error("train_batch: enwik8 was opened without its file");
    const uint64_t L = static_cast<uint64_t>(seq_len_), n_starts = splits_.train.size - L;
    std::vector<uint8_t> buf(L + 1);
    std::vector<int64_t> tokens, labels;
    for (int64_t b = 0; b < batch_; ++b) {
      const uint64_t s = data::bounded_u64([this]() { return data::splitmix64(rng_); }, n_starts);
      splits_.file->read(splits_.train.begin + s, L + 1, buf.data());
      tokens.insert(tokens.end(), buf.begin(), buf.end() - 1);
      labels.insert(labels.end(), buf.begin() + 1, buf.end());
    }
    Batch out;
    out.tokens = from_vector_i64(tokens, {batch_, seq_len_});
    out.labels = from_vector_i64(labels, {batch_, seq_len_});
    out.real_tokens = batch_ * seq_len_;
    return out;
  }

  EvalResult evaluate(const std::string& split, int64_t max_batches) override {
    if (!splits_.file) throw std::logic_error("evaluate: enwik8 was opened without its file");
    const data::ByteSpan span = split == "train" ? splits_.train : split == "val" ? splits_.val : splits_.test;
    // Windows (start, length) of inputs; each predicts its next bytes.
    std::vector<std::pair<uint64_t, uint64_t>> windows;
    const uint64_t L = std::min<uint64_t>(static_cast<uint64_t>(seq_len_), span.size - 1);
    if (eval_windows_ == 0) {
      for (uint64_t s = 0; s + 1 < span.size; s += L) windows.push_back({s, std::min(L, span.size - 1 - s)});
    } else {
      const uint64_t last = span.size - 1 - L;
      for (int64_t w = 0; w < eval_windows_; ++w)
        windows.push_back({eval_windows_ > 1 ? last * static_cast<uint64_t>(w) / static_cast<uint64_t>(eval_windows_ - 1) : 0, L});
    }
    size_t at = 0;
    int64_t nb = 0;
    std::vector<uint8_t> buf;
    return run_eval(*this, split, [&](Batch& b) {
      if (at >= windows.size() || (max_batches > 0 && nb++ >= max_batches)) return false;
      // A batch holds windows of one length (the last, shorter one goes alone).
      const uint64_t len = windows[at].second;
      std::vector<int64_t> tokens, labels;
      int64_t rows = 0;
      while (at < windows.size() && rows < batch_ && windows[at].second == len) {
        buf.resize(len + 1);
        splits_.file->read(span.begin + windows[at].first, len + 1, buf.data());
        tokens.insert(tokens.end(), buf.begin(), buf.end() - 1);
        labels.insert(labels.end(), buf.begin() + 1, buf.end());
        ++rows;
        ++at;
      }
      b = Batch{};
      b.tokens = from_vector_i64(tokens, {rows, static_cast<int64_t>(len)});
      b.labels = from_vector_i64(labels, {rows, static_cast<int64_t>(len)});
      return true;
    });
  }

 private:
  data::Enwik8Splits splits_;
  std::string notes_;
};

}  // namespace

std::unique_ptr<Task> make_lm_task(const json& cfg, DType dt, Generator& gen, Device device, Splits splits) {
  if (cfg.at("task") == "enwik8") return std::make_unique<Enwik8Task>(cfg, dt, gen, device, splits);
  return std::make_unique<LMTask>(cfg, dt, gen, device, splits);
}

}  // namespace seqboat::train
