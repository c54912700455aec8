// train/tasks.cpp: building a task from its config (make_task, model_config),
// ListOps data (read whole or indexed, or generated and reused by its stamp),
// token labels.
// The tasks themselves: train/task_classify.cpp and train/task_lm.cpp.
#include "train/tasks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>

#include "autograd/autograd.h"
#include "data/listops.h"
#include "data/listops_tsv.h"
#include "data/recall.h"
#include "data/cifar10.h"
#include "data/speech_commands.h"
#include "ops/elementwise.h"
#include "ops/nn_ops.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "tensor/atomic_file.h"
#include "tensor/file_read.h"
#include "tensor/json_text.h"
#include "train/task_data.h"

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
  const bool lm = cfg.at("task") == "lm" || cfg.at("task") == "enwik8";
  m.bidirectional = lm ? false : cfg.at("model.bidirectional").get<bool>();
  m.init_temp_scale = cfg.at("model.init_temp_scale");
  m.norm_type = nn::parse_norm_type(cfg.at("model.norm_type"));
  m.rel_pos_bias = nn::parse_rel_pos(cfg.at("model.rel_pos_bias"));
  m.attention_activation = nn::parse_activation(cfg.at("model.attention_activation"));
  int64_t trunc = cfg.at("model.truncation");
  if (trunc > 0) m.truncation = trunc;
  m.positions = cfg.at("model.positions") == "sinusoidal";
  m.classifier_hidden = cfg.at("model.classifier_hidden");
  m.embed_std = cfg.at("model.embed_std");
  m.embedding_dropout = cfg.at("model.embedding_dropout");
  return m;
}

std::string token_label(const std::string& task, int32_t id) {
  if (task == "listops") return data::listops_token_name(id);
  if (task == "lm" || task == "enwik8" || task == "text" || task == "retrieval") {
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
  if (cfg.at("listops.distribution") == "lra") {
    g["listops.max_depth"] = data::kLraListOps.max_depth;
    g["listops.max_args"] = data::kLraListOps.max_args;
    g["listops.min_length"] = data::kLraListOps.min_length;
    g["listops.max_length"] = data::kLraListOps.max_length;
    g["listops.distribution"] = "lra";
  }
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

void check_split_size(size_t n, const std::string& path, const char* split) {
  if (n == 0) throw std::runtime_error(fmt::format("{}: the {} split has no examples", path, split));
}

// Where a listops run's data is: the folder holding basic_{train,val,test}.tsv
// (data.dir, or out_dir/data generated earlier with these settings), or,
// when it is generated for this run, the generated files (to be written;
// `dir` empty).
struct ListOpsLocation {
  std::string dir;
  std::vector<PendingFile> pending;
};

ListOpsLocation locate_listops_data(const json& cfg, const std::string& out_dir) {
  ListOpsLocation loc;
  loc.dir = cfg.at("data.dir");
  const json settings = listops_generator_settings(cfg);
  const fs::path generated = fs::path(out_dir) / "data";
  if (loc.dir.empty() && !generated_listops_fresh(settings, generated))
    loc.pending = generate_listops_files(settings, generated);
  else if (loc.dir.empty())
    loc.dir = generated.string();
  return loc;
}

constexpr const char* kSplitNames[] = {"train", "val", "test"};

std::string split_path(const std::string& dir, int split) {
  return (fs::path(dir) / fmt::format("basic_{}.tsv", kSplitNames[split])).string();
}

// A split read from its indexed file (train/task_data.h's SplitSource).
class ListOpsSource : public SplitSource {
 public:
  explicit ListOpsSource(const std::string& path) : file_(path) {}
  size_t size() const override { return file_.size(); }
  int64_t length(size_t i) const override { return file_.length(i); }
  Sample get(size_t i) override {
    data::SeqExample ex = file_.read(i);
    return Sample{std::move(ex.tokens), {}, {}, ex.label};
  }

 private:
  data::ListOpsFile file_;
};

}  // namespace

TaskData load_listops_data(const json& cfg, const std::string& out_dir, Splits splits) {
  ListOpsLocation loc = locate_listops_data(cfg, out_dir);
  TaskData t;
  std::unique_ptr<SplitSource>* parts[] = {&t.train, &t.val, &t.test};
  const bool wanted[] = {splits.train, splits.val, splits.test};
  for (int i = 0; i < 3; ++i) {
    if (!wanted[i]) continue;
    if (loc.pending.empty()) {
      auto src = std::make_unique<ListOpsSource>(split_path(loc.dir, i));
      check_split_size(src->size(), split_path(loc.dir, i), kSplitNames[i]);
      *parts[i] = std::move(src);
    } else {  // generated for this run: in memory, as generated (synthetic; every rank generates the same)
      const PendingFile& f = loc.pending[static_cast<size_t>(i)];
      std::vector<data::SeqExample> ex = data::parse_listops_tsv(f.bytes, f.path);
      check_split_size(ex.size(), f.path, kSplitNames[i]);
      *parts[i] = std::make_unique<VectorSource>(std::move(ex));
    }
  }
  t.kind = InputKind::Tokens;
  t.vocab = data::kListOpsVocab;
  t.classes = data::kListOpsClasses;
  t.pending = std::move(loc.pending);
  return t;
}

ClassificationData load_classification_data(const json& cfg, const std::string& out_dir, Splits splits) {
  ClassificationData d;
  const std::string task = cfg.at("task");
  if (task == "listops") {
    ListOpsLocation loc = locate_listops_data(cfg, out_dir);
    std::vector<data::SeqExample>* parts[] = {&d.train, &d.val, &d.test};
    const bool wanted[] = {splits.train, splits.val, splits.test};
    for (int i = 0; i < 3; ++i) {
      if (!wanted[i]) continue;
      const std::string path = loc.pending.empty() ? split_path(loc.dir, i) : loc.pending[static_cast<size_t>(i)].path;
      *parts[i] = loc.pending.empty() ? data::read_listops_tsv(path)
                                      : data::parse_listops_tsv(loc.pending[static_cast<size_t>(i)].bytes, path);
      check_split_size(parts[i]->size(), path, kSplitNames[i]);
    }
    d.pending = std::move(loc.pending);
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
    throw UsageError(fmt::format(
        "task {}: per-example views (inspect) cover listops, recall and lm; its routing statistics are in the "
        "run's routing.json (seqboat compare)",
        task));
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

nn::ModelConfig task_model_config(const json& cfg) {
  const std::string task = cfg.at("task");
  if (task == "lm" || task == "enwik8") return model_config(cfg, data::kByteVocab, data::kByteVocab);
  const bool values = task == "image" || task == "pathfinder" || task == "speech";
  int64_t vocab = data::kListOpsVocab, classes = data::kListOpsClasses;
  if (task == "recall") {
    data::RecallConfig rc;  // ranges checked by validate_config: all fit int
    rc.n_pairs = cfg.at("recall.n_pairs").get<int>();
    rc.n_keys = cfg.at("recall.n_keys").get<int>();
    rc.n_values = cfg.at("recall.n_values").get<int>();
    vocab = data::recall_vocab(rc);
    classes = data::recall_classes(rc);
  } else if (task == "text" || task == "retrieval") {
    vocab = 256;  // bytes
    classes = 2;
  } else if (values) {
    vocab = 0;
    classes = task == "image" ? data::kCifarClasses : task == "pathfinder" ? 2
                                                     : static_cast<int64_t>(data::sc10_classes().size());
  }
  nn::ModelConfig mc = model_config(cfg, vocab, classes);
  if (values) {
    mc.d_input = 1;
    mc.real_input_init = true;
  }
  mc.pair = task == "retrieval";
  return mc;
}

void probe_config_model(const json& cfg) {
  NoGradGuard no_grad;
  Generator gen(0);
  DropoutRng unused;  // eval mode draws no dropout
  const nn::ModelConfig mc = task_model_config(cfg);
  const int64_t L = 8;
  if (cfg.at("task") == "lm" || cfg.at("task") == "enwik8") {
    nn::SeqBoatLM lm(mc, DType::Float32, gen);
    lm.eval();
    lm.forward(zeros({1, L}, DType::Int64), unused);
    return;
  }
  nn::SeqBoatModel m(mc, DType::Float32, gen);
  m.eval();
  const Tensor pad = zeros({mc.pair ? 2 : 1, L}, DType::UInt8);
  if (mc.d_input > 0) m.forward(zeros({1, L, 1}, DType::Float32), pad, unused);
  else if (mc.pair) m.forward_pair(full({2, L}, 1, DType::Int64), pad, unused);
  else m.forward(full({1, L}, 1, DType::Int64), pad, unused);
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
  const std::string task = cfg.at("task");
  if (task == "lm" || task == "enwik8") return make_lm_task(cfg, dt, gen, device, splits);
  return make_classification_task(cfg, out_dir, dt, gen, device, splits);
}

std::string source_root() {
#ifdef SEQBOAT_SOURCE_DIR
  return SEQBOAT_SOURCE_DIR;
#else
  return ".";
#endif
}

}  // namespace seqboat::train
