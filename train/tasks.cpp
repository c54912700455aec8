// train/tasks.cpp: building a task from its config (make_task, model_config),
// ListOps data (read, or generated and reused by its stamp), token labels.
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
#include "data/recall.h"
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
    // LRA's distribution (docs/semantics.md, section 6): depth up to 10, 2-10 arguments,
    // lengths strictly between 500 and 2000.
    g["listops.max_depth"] = 10;
    g["listops.max_args"] = 10;
    g["listops.min_length"] = 500;
    g["listops.max_length"] = 2000;
    g["listops.distribution"] = "lra";
  }
  return g;
}

// Generates the listops splits into dir unless the files there were made with
// these settings. generator.json is written last: a run killed while
// generating leaves no stamp, so the next one generates again.
void ensure_generated_listops(const json& cfg, const fs::path& dir) {
  const json settings = listops_generator_settings(cfg);
  const fs::path stamp = dir / "generator.json";
  bool fresh = fs::exists(dir / "basic_train.tsv") && fs::exists(dir / "basic_val.tsv") &&
               fs::exists(dir / "basic_test.tsv") && fs::exists(stamp);
  if (fresh) {
    try {
      fresh = parse_json_text(read_file_limited(stamp.string(), 1 << 20, "generator stamp"), "stamp") == settings;
    } catch (const std::exception&) {
      fresh = false;  // unreadable or malformed: generate again
    }
  }
  if (fresh) return;
  data::ListOpsGenConfig g;
  g.max_depth = settings["listops.max_depth"].get<int>();  // ranges checked by validate_config: all fit int
  g.max_args = settings["listops.max_args"].get<int>();
  g.min_length = settings["listops.min_length"].get<int>();
  g.max_length = settings["listops.max_length"].get<int>();
  g.n_train = settings["listops.n_train"].get<int>();
  g.n_val = settings["listops.n_val"].get<int>();
  g.n_test = settings["listops.n_test"].get<int>();
  g.seed = settings["seed"].get<uint64_t>();
  std::error_code ec;
  fs::remove(stamp, ec);
  data::write_listops_splits(dir.string(), g);
  write_file_atomic(stamp.string(), settings.dump(2) + "\n");
}

std::vector<data::SeqExample> read_split(const fs::path& dir, const char* split) {
  const fs::path path = dir / fmt::format("basic_{}.tsv", split);
  std::vector<data::SeqExample> ex = data::read_listops_tsv(path.string());
  if (ex.empty()) throw std::runtime_error(fmt::format("{}: the {} split has no examples", path.string(), split));
  return ex;
}

}  // namespace

ClassificationData load_classification_data(const json& cfg, const std::string& out_dir, Splits splits) {
  ClassificationData d;
  const std::string task = cfg.at("task");
  if (task == "listops") {
    std::string dir = cfg.at("data.dir");
    if (dir.empty()) {
      dir = (fs::path(out_dir) / "data").string();
      ensure_generated_listops(cfg, dir);
    }
    if (splits.train) d.train = read_split(dir, "train");
    if (splits.val) d.val = read_split(dir, "val");
    if (splits.test) d.test = read_split(dir, "test");
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
    throw std::invalid_argument(fmt::format(
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
