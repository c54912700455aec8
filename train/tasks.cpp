// train/tasks.cpp: ListOps / recall classification and byte-level LM tasks.
#include "train/tasks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>

#include "autograd/autograd.h"
#include "data/listops.h"
#include "data/recall.h"
#include "ops/elementwise.h"
#include "ops/nn_ops.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "tensor/atomic_file.h"
#include "tensor/file_read.h"
#include "tensor/json_text.h"

namespace seqboat::train {

using nlohmann::json;
namespace fs = std::filesystem;

nn::ModelConfig model_config(const json& cfg, int64_t vocab, int64_t classes) {
  nn::ModelConfig m;
  m.vocab_size = vocab;
  m.d_model = cfg.at("model.d_model");
  m.d_output = classes;
  m.n_layers = cfg.at("model.n_layers");
  m.dropout = cfg.at("model.dropout");
  m.prenorm = cfg.at("model.prenorm");
  m.max_positions = cfg.at("model.max_positions");
  m.d_qk = cfg.at("model.d_qk");
  m.d_ema = cfg.at("model.d_ema");
  m.mem_size = cfg.at("model.mem_size");
  m.bidirectional = cfg.at("task") == "lm" ? false : cfg.at("model.bidirectional").get<bool>();
  m.init_temp_scale = cfg.at("model.init_temp_scale");
  m.norm_type = nn::parse_norm_type(cfg.at("model.norm_type"));
  m.rel_pos_bias = nn::parse_rel_pos(cfg.at("model.rel_pos_bias"));
  m.attention_activation = nn::parse_activation(cfg.at("model.attention_activation"));
  int64_t trunc = cfg.at("model.truncation");
  if (trunc > 0) m.truncation = trunc;
  return m;
}

std::string token_label(const std::string& task, int32_t id) {
  if (task == "listops") return data::listops_token_name(id);
  if (task == "lm") {
    if (id >= 33 && id < 127) return std::string(1, static_cast<char>(id));
    return fmt::format("\\x{:02x}", id);
  }
  if (id == data::kRecallPad) return "<pad>";
  if (id == data::kRecallSep) return "?";
  return fmt::format("{}", id);
}

// ------------------------------------------------------------ classification

namespace {

// The generator settings a listops run's data comes from, as recorded in
// <dir>/generator.json: data is reused only when they are the same.
json listops_generator_settings(const json& cfg) {
  json g = json::object();
  for (const char* k : {"listops.max_depth", "listops.max_args", "listops.min_length", "listops.max_length",
                        "listops.n_train", "listops.n_val", "listops.n_test", "seed"})
    g[k] = cfg.at(k);
  return g;
}

// Whether dir holds the three splits and a generator.json recording these
// settings (unreadable or malformed: no).
bool generated_listops_fresh(const json& settings, const fs::path& dir) {
  const fs::path stamp = dir / "generator.json";
  if (!fs::exists(dir / "basic_train.tsv") || !fs::exists(dir / "basic_val.tsv") ||
      !fs::exists(dir / "basic_test.tsv") || !fs::exists(stamp))
    return false;
  try {
    return parse_json_text(read_file_limited(stamp.string(), 1 << 20, "generator stamp"), "stamp") == settings;
  } catch (const std::exception&) {
    return false;
  }
}

// The listops splits generated in memory as the files dir would hold,
// generator.json last: a run killed while writing leaves no stamp, so the
// next one generates again.
std::vector<PendingFile> generate_listops_files(const json& settings, const fs::path& dir) {
  data::ListOpsGenConfig g;
  g.max_depth = settings["listops.max_depth"].get<int>();  // ranges checked by validate_config: all fit int
  g.max_args = settings["listops.max_args"].get<int>();
  g.min_length = settings["listops.min_length"].get<int>();
  g.max_length = settings["listops.max_length"].get<int>();
  g.n_train = settings["listops.n_train"].get<int>();
  g.n_val = settings["listops.n_val"].get<int>();
  g.n_test = settings["listops.n_test"].get<int>();
  g.seed = settings["seed"].get<uint64_t>();
  const data::ListOpsSplits s = data::generate_listops(g);
  return {{(dir / "basic_train.tsv").string(), data::listops_tsv_text(s.train)},
          {(dir / "basic_val.tsv").string(), data::listops_tsv_text(s.val)},
          {(dir / "basic_test.tsv").string(), data::listops_tsv_text(s.test)},
          {(dir / "generator.json").string(), settings.dump(2) + "\n"}};
}

std::vector<data::SeqExample> checked_split(std::vector<data::SeqExample> ex, const std::string& path,
                                            const char* split) {
  if (ex.empty()) throw std::runtime_error(fmt::format("{}: the {} split has no examples", path, split));
  return ex;
}

std::vector<data::SeqExample> read_split(const fs::path& dir, const char* split) {
  const fs::path path = dir / fmt::format("basic_{}.tsv", split);
  return checked_split(data::read_listops_tsv(path.string()), path.string(), split);
}

}  // namespace

ClassificationData load_classification_data(const json& cfg, const std::string& out_dir, Splits splits) {
  ClassificationData d;
  const std::string task = cfg.at("task");
  if (task == "listops") {
    std::string dir = cfg.at("data.dir");
    const json settings = listops_generator_settings(cfg);
    if (dir.empty() && !generated_listops_fresh(settings, fs::path(out_dir) / "data")) {
      d.pending = generate_listops_files(settings, fs::path(out_dir) / "data");
      const char* names[] = {"train", "val", "test"};
      std::vector<data::SeqExample>* parts[] = {&d.train, &d.val, &d.test};
      const bool wanted[] = {splits.train, splits.val, splits.test};
      for (int i = 0; i < 3; ++i)
        if (wanted[i])
          *parts[i] = checked_split(data::parse_listops_tsv(d.pending[i].bytes, d.pending[i].path), d.pending[i].path,
                                    names[i]);
    } else {
      if (dir.empty()) dir = (fs::path(out_dir) / "data").string();
      if (splits.train) d.train = read_split(dir, "train");
      if (splits.val) d.val = read_split(dir, "val");
      if (splits.test) d.test = read_split(dir, "test");
    }
    d.vocab = data::kListOpsVocab;
    d.classes = data::kListOpsClasses;
  } else if (task == "recall") {
    data::RecallConfig rc;  // ranges checked by validate_config: all fit int
    rc.n_pairs = cfg.at("recall.n_pairs").get<int>();
    rc.n_keys = cfg.at("recall.n_keys").get<int>();
    rc.n_values = cfg.at("recall.n_values").get<int>();
    rc.seed = cfg.at("seed").get<uint64_t>();
    const int n_test = cfg.at("recall.n_test").get<int>();
    if (splits.train) d.train = data::make_recall(rc, cfg.at("recall.n_train").get<int>(), 1);
    if (splits.val) d.val = data::make_recall(rc, n_test, 2);
    if (splits.test) d.test = data::make_recall(rc, n_test, 3);
    d.vocab = data::recall_vocab(rc);
    d.classes = data::recall_classes(rc);
  } else {
    throw std::invalid_argument(fmt::format("task '{}' is not a classification task", task));
  }
  return d;
}

Batch make_classification_batch(const std::vector<data::SeqExample>& ex, const std::vector<int64_t>& idx) {
  int64_t B = static_cast<int64_t>(idx.size()), L = 1;
  for (int64_t i : idx) L = std::max<int64_t>(L, static_cast<int64_t>(ex[i].tokens.size()));
  std::vector<int64_t> tokens(static_cast<size_t>(B * L), 0), labels(static_cast<size_t>(B));
  std::vector<uint8_t> padding(static_cast<size_t>(B * L), 1);
  Batch b;
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = ex[idx[r]];
    for (size_t t = 0; t < e.tokens.size(); ++t) {
      tokens[r * L + static_cast<int64_t>(t)] = e.tokens[t];
      padding[r * L + static_cast<int64_t>(t)] = 0;
    }
    labels[r] = e.label;
    b.real_tokens += static_cast<int64_t>(e.tokens.size());
  }
  b.tokens = from_vector_i64(tokens, {B, L});
  b.padding = from_vector_u8(padding, {B, L});
  b.labels = from_vector_i64(labels, {B});
  return b;
}

namespace {

// Rows whose argmax equals the label (labels < 0 never match: argmax >= 0).
int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  Tensor hits = eq(argmax(logits.detach(), -1), labels.to(logits.device()));
  return static_cast<int64_t>(sum(cast(hits, DType::Float64)).item());
}

// Averages loss and accuracy over the batches `next` yields, in eval mode and
// without recording a graph.
EvalResult run_eval(Task& task, const std::string& split, const std::function<bool(Batch&)>& next) {
  NoGradGuard no_grad;
  nn::Module& m = task.model();
  bool was_training = m.is_training();
  m.eval();
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0;
  DropoutRng unused;
  Batch b;
  while (next(b)) {
    int64_t c = 0, n = 0;
    Tensor l = task.loss(b, unused, &c, &n);
    loss_sum += l.item() * static_cast<double>(n);
    correct += c;
    r.examples += n;
  }
  m.train(was_training);
  // No examples would be a loss and accuracy of 0 that look like results.
  if (r.examples == 0) throw std::runtime_error(fmt::format("evaluation: the {} split has no examples", split));
  r.loss = loss_sum / static_cast<double>(r.examples);
  r.accuracy = static_cast<double>(correct) / static_cast<double>(r.examples);
  return r;
}

class ClassificationTask : public Task {
 public:
  ClassificationTask(const json& cfg, const std::string& out_dir, DType dt, Generator& gen, Device device,
                     Splits splits)
      : data_(load_classification_data(cfg, out_dir, splits)),
        splits_(splits),
        batch_(cfg.at("batch_size")),
        seed_(cfg.at("seed")),
        shuffle_args_(cfg.at("task") == "listops" && cfg.at("listops.shuffle_args").get<bool>()),
        dt_(dt) {
    // A batch is drawn without replacement from one epoch: more than the
    // split holds would repeat (pad with) examples.
    if (splits.train && static_cast<int64_t>(data_.train.size()) < batch_)
      throw std::runtime_error(fmt::format(
          "config key 'batch_size': {} is larger than the training split ({} examples); lower batch_size", batch_,
          data_.train.size()));
    model_ = std::make_shared<nn::SeqBoatModel>(model_config(cfg, data_.vocab, data_.classes), dt, gen);
    model_->to(device_ = device);
    batches_per_epoch_ = std::max<int64_t>(1, static_cast<int64_t>(data_.train.size()) / batch_);
    pending_ = std::move(data_.pending);
  }

  nn::Module& model() override { return *model_; }
  std::vector<nn::SeqBoatLayer*> layers() override {
    std::vector<nn::SeqBoatLayer*> out;
    for (auto& l : model_->seq_layers) out.push_back(l.get());
    return out;
  }

  // Epoch e's order: a seeded shuffle, then length-bucketed batches (sorted
  // within windows of 50 batches, so a batch pads little), in shuffled order.
  Batch train_batch(int64_t step) override {
    int64_t epoch = step / batches_per_epoch_, k = step % batches_per_epoch_;
    if (epoch != plan_epoch_) plan_epoch(epoch);
    std::vector<int64_t> idx(plan_.begin() + k * batch_, plan_.begin() + (k + 1) * batch_);
    if (!shuffle_args_) return make_classification_batch(data_.train, idx);
    // A fresh argument order per draw, seeded by (seed, step) so that resume
    // reproduces it without saving state.
    Generator aug((seed_ << 32) ^ (0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step)));
    std::vector<data::SeqExample> shuffled;
    shuffled.reserve(idx.size());
    for (int64_t i : idx) {
      data::SeqExample e = data_.train[i];
      e.tokens = data::listops_shuffle_arguments(e.tokens, aug);
      shuffled.push_back(std::move(e));
    }
    std::vector<int64_t> all(idx.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
    return make_classification_batch(shuffled, all);
  }

  Batch dummy_batch() const override {
    const std::vector<data::SeqExample> ex = {{std::vector<int32_t>(8, 1), 0}};
    return make_classification_batch(ex, {0});
  }

  Tensor loss(const Batch& b, DropoutRng& rng, int64_t* correct, int64_t* counted) override {
    Tensor logits = model_->forward(b.tokens.to(device_), b.padding.to(device_), rng);
    if (correct) *correct = count_correct(logits, b.labels);
    if (counted) *counted = b.labels.numel();
    return cross_entropy(logits, b.labels);
  }

  EvalResult evaluate(const std::string& split, int64_t max_batches) override {
    const Splits want = Splits::only(split);
    if (!(want.train && splits_.train) && !(want.val && splits_.val) && !(want.test && splits_.test))
      throw std::logic_error(fmt::format("evaluate: the {} split was not loaded for this task", split));
    const auto& ex = split == "val" ? data_.val : split == "test" ? data_.test : data_.train;
    return evaluate_examples(split, ex, max_batches);
  }

  EvalResult evaluate_examples(const std::string& split, const std::vector<data::SeqExample>& ex,
                               int64_t max_batches) {
    // Sorted by length so batches pad little; order does not change the result.
    std::vector<int64_t> order(ex.size());
    for (size_t i = 0; i < ex.size(); ++i) order[i] = static_cast<int64_t>(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return ex[a].tokens.size() < ex[b].tokens.size(); });
    size_t at = 0;
    int64_t nb = 0;
    return run_eval(*this, split, [&](Batch& b) {
      if (at >= order.size() || (max_batches > 0 && nb++ >= max_batches)) return false;
      size_t end = std::min(order.size(), at + static_cast<size_t>(batch_));
      b = make_classification_batch(ex, std::vector<int64_t>(order.begin() + static_cast<int64_t>(at),
                                                             order.begin() + static_cast<int64_t>(end)));
      at = end;
      return true;
    });
  }

 private:
  void plan_epoch(int64_t epoch) {
    const int64_t n = static_cast<int64_t>(data_.train.size());
    Generator g(seed_ * 1000003ULL + static_cast<uint64_t>(epoch));
    std::vector<int64_t> perm(n);
    for (int64_t i = 0; i < n; ++i) perm[i] = i;
    for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[g.next_below(static_cast<uint64_t>(i + 1))]);
    perm.resize(static_cast<size_t>(batches_per_epoch_ * batch_));
    const int64_t window = 50 * batch_;
    for (int64_t s = 0; s < static_cast<int64_t>(perm.size()); s += window) {
      auto first = perm.begin() + s, last = perm.begin() + std::min<int64_t>(s + window, perm.size());
      std::stable_sort(first, last, [&](int64_t a, int64_t b) {
        return data_.train[a].tokens.size() < data_.train[b].tokens.size();
      });
    }
    std::vector<int64_t> order(batches_per_epoch_);
    for (int64_t i = 0; i < batches_per_epoch_; ++i) order[i] = i;
    for (int64_t i = batches_per_epoch_ - 1; i > 0; --i)
      std::swap(order[i], order[g.next_below(static_cast<uint64_t>(i + 1))]);
    plan_.clear();
    for (int64_t bi : order) plan_.insert(plan_.end(), perm.begin() + bi * batch_, perm.begin() + (bi + 1) * batch_);
    plan_epoch_ = epoch;
  }

  ClassificationData data_;
  Splits splits_;
  int64_t batch_;
  uint64_t seed_;
  bool shuffle_args_;
  DType dt_;
  std::shared_ptr<nn::SeqBoatModel> model_;
  int64_t batches_per_epoch_ = 1;
  int64_t plan_epoch_ = -1;
  std::vector<int64_t> plan_;
};

// ------------------------------------------------------------------- lm

class LMTask : public Task {
 public:
  LMTask(const json& cfg, DType dt, Generator& gen, Device device, Splits splits)
      : batch_(cfg.at("batch_size")), seq_len_(cfg.at("lm.seq_len")), eval_windows_(cfg.at("lm.eval_windows")) {
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
    rng_ = static_cast<uint64_t>(cfg.at("seed").get<int64_t>()) * 0x9E3779B97F4A7C15ULL + 1;
    model_ = std::make_shared<nn::SeqBoatLM>(model_config(cfg, data::kByteVocab, data::kByteVocab), dt, gen);
    model_->to(device_ = device);
  }

  nn::Module& model() override { return *model_; }
  std::vector<nn::SeqBoatLayer*> layers() override {
    std::vector<nn::SeqBoatLayer*> out;
    for (auto& l : model_->seq_layers) out.push_back(l.get());
    return out;
  }
  bool reports_bits_per_byte() const override { return true; }
  std::array<uint64_t, 4> sampler_state() const override { return {rng_, 0, 0, 0}; }
  void set_sampler_state(const std::array<uint64_t, 4>& s) override { rng_ = s[0]; }

  Batch train_batch(int64_t) override {
    if (!train_) throw std::logic_error("train_batch: this lm task was built without its corpus");
    return sample(*train_, rng_);
  }

  Batch dummy_batch() const override {
    const int64_t L = std::min<int64_t>(seq_len_, 8);
    Batch b;
    b.tokens = from_vector_i64(std::vector<int64_t>(static_cast<size_t>(L), 0), {1, L});
    b.labels = from_vector_i64(std::vector<int64_t>(static_cast<size_t>(L), 0), {1, L});
    return b;
  }

  Tensor loss(const Batch& b, DropoutRng& rng, int64_t* correct, int64_t* counted) override {
    Tensor logits = model_->forward(b.tokens.to(device_), rng);  // (B, L, V)
    Tensor flat = reshape(logits, {-1, logits.size(-1)});
    Tensor y = reshape(b.labels, {-1});
    if (correct) *correct = count_correct(flat, y);
    if (counted) *counted = y.numel();
    return cross_entropy(flat, y);
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

  int64_t batch_, seq_len_, eval_windows_;
  std::optional<data::ByteCorpus> train_, val_;  // the corpus has no empty state
  uint64_t rng_ = 0;
  std::shared_ptr<nn::SeqBoatLM> model_;
};

}  // namespace

void Task::probe() {
  NoGradGuard no_grad;
  nn::Module& m = model();
  const bool was_training = m.is_training();
  m.eval();
  DropoutRng unused;  // eval mode draws no dropout
  try {
    loss(dummy_batch(), unused, nullptr, nullptr);
  } catch (...) {
    m.train(was_training);
    throw;
  }
  m.train(was_training);
}

void probe_config_model(const json& cfg) {
  NoGradGuard no_grad;
  Generator gen(0);
  DropoutRng unused;  // eval mode draws no dropout
  const std::string task = cfg.at("task");
  const int64_t L = 8;
  if (task == "lm") {
    nn::SeqBoatLM lm(model_config(cfg, data::kByteVocab, data::kByteVocab), DType::Float32, gen);
    lm.eval();
    lm.forward(zeros({1, L}, DType::Int64), unused);
    return;
  }
  int64_t vocab = data::kListOpsVocab, classes = data::kListOpsClasses;
  if (task == "recall") {
    data::RecallConfig rc;  // ranges checked by validate_config: all fit int
    rc.n_pairs = cfg.at("recall.n_pairs").get<int>();
    rc.n_keys = cfg.at("recall.n_keys").get<int>();
    rc.n_values = cfg.at("recall.n_values").get<int>();
    vocab = data::recall_vocab(rc);
    classes = data::recall_classes(rc);
  }
  nn::SeqBoatModel m(model_config(cfg, vocab, classes), DType::Float32, gen);
  m.eval();
  m.forward(full({1, L}, 1, DType::Int64), zeros({1, L}, DType::UInt8), unused);
}

void write_pending_files(const std::vector<PendingFile>& files) {
  for (const PendingFile& f : files) {
    const fs::path parent = fs::path(f.path).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec)
      throw std::runtime_error(
          fmt::format("cannot create directory {}: {}", quote_text(parent.string()), ec.message()));
    write_file_atomic(f.path, f.bytes);
  }
}

std::unique_ptr<Task> make_task(const json& cfg, const std::string& out_dir, DType dt, Generator& gen, Device device,
                                Splits splits) {
  if (cfg.at("task") == "lm") return std::make_unique<LMTask>(cfg, dt, gen, device, splits);
  return std::make_unique<ClassificationTask>(cfg, out_dir, dt, gen, device, splits);
}

std::string source_root() {
#ifdef SEQBOAT_SOURCE_DIR
  return SEQBOAT_SOURCE_DIR;
#else
  return ".";
#endif
}

}  // namespace seqboat::train
