// tools/cli/inspect.cpp: `seqboat inspect`: which tokens each layer activated.
// Per layer: activation density (share of real tokens that ran the attention
// unit) and mean attention span in original positions, over up to 512 test
// examples; an SVG heatmap per shown example (rows = layers, columns = tokens,
// colour = gate); a loss curve from metrics.jsonl; report.html with all of it.
#include <fmt/format.h>

#include <filesystem>

#include "autograd/autograd.h"
#include "cli.h"
#include "data/bytes_corpus.h"
#include "ops/backend.h"
#include "ops/reduce.h"
#include "tensor/safe_text.h"
#include "train/metrics.h"
#include "train/report.h"
#include "train/routing_stats.h"
#include "train/run_loader.h"
#include "train/tasks.h"

namespace seqboat::cli {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Sequence {
  std::vector<int32_t> tokens;
  int label = -1;
};

// Runs the model on one sequence; returns per-layer routes and the prediction.
report::RoutedExample route_one(nn::Module& model, const std::string& task, const Sequence& s, Device device) {
  NoGradGuard no_grad;
  DropoutRng unused;
  const int64_t L = static_cast<int64_t>(s.tokens.size());
  std::vector<int64_t> ids(s.tokens.begin(), s.tokens.end());
  Tensor tokens = from_vector_i64(ids, {1, L}).to(device);
  std::vector<nn::SeqBoatLayer*> layers;
  report::RoutedExample ex;
  ex.label = s.label;
  if (auto* m = dynamic_cast<nn::SeqBoatModel*>(&model)) {
    Tensor logits = m->forward(tokens, zeros({1, L}, DType::UInt8, device), unused);
    ex.predicted = static_cast<int>(argmax(logits, -1).item());
    for (auto& l : m->seq_layers) layers.push_back(l.get());
  } else if (auto* lm = dynamic_cast<nn::SeqBoatLM*>(&model)) {
    lm->forward(tokens, unused);
    for (auto& l : lm->seq_layers) layers.push_back(l.get());
  }
  for (int32_t t : s.tokens) ex.tokens.push_back(train::token_label(task, t));
  for (nn::SeqBoatLayer* l : layers) {
    report::LayerRoute r;
    r.gate = l->last_route.gate.to_vector();  // (1, L): one copy per layer from any device
    for (double a : l->last_route.active.to_vector()) r.active.push_back(a != 0);
    ex.layers.push_back(r);
  }
  return ex;
}

}  // namespace

const CommandSpec& inspect_spec() {
  static const CommandSpec s{
      "inspect",
      "SMA pictures: which tokens each layer activated, report.html",
      "",
      0,
      0,
      {},
      {required(text_option("checkpoint", "FILE", "the checkpoint (checkpoint.safetensors of a run)")),
       task_option_spec("must be the checkpoint's task when given"),
       text_option("data-dir", "DIR", "ListOps: read basic_test.tsv here (default: the run's data)"),
       integer_option("n", 0, 512, 8, "examples to draw"), required(text_option("out", "DIR", "the report directory")),
       device_option_spec(),
       flag_option("allow-nonfinite", "inspect a checkpoint whose weights hold NaN or infinity (refused otherwise)")},
      ""};
  return s;
}

int cmd_inspect(const ParsedArgs& a) {
  const Device device = device_option(a);
  if (!device_available(device)) return device_error("inspect", device);
  const std::string ckpt = a.text("checkpoint");
  const int n_show = static_cast<int>(a.integer("n", 8));
  train::LoadedRun run = train::load_run(ckpt, a.text("task"), a.text("data-dir"), device, train::Splits::none(),
                                         a.has("allow-nonfinite"));
  const json& cfg = run.cfg;
  const std::string task = cfg.at("task");
  const fs::path run_dir = run.run_dir;

  // The sequences: the test split (classification) or corpus windows (lm).
  std::vector<Sequence> seqs;
  if (task == "lm") {
    std::vector<std::string> paths = cfg.at("data.paths").get<std::vector<std::string>>();
    data::ByteCorpus corpus =
        paths.empty() ? data::ByteCorpus::from_source_tree(train::source_root()) : data::ByteCorpus::from_files(paths);
    const int64_t len = std::min<int64_t>(cfg.at("lm.seq_len").get<int64_t>(), static_cast<int64_t>(corpus.size()) - 1);
    if (len < 1) throw std::runtime_error("inspect: the lm corpus is too short to show a window (1 byte)");
    for (int i = 0; i < 64; ++i) {
      size_t start = (corpus.size() - len) * static_cast<size_t>(i) / 64;
      Sequence s;
      for (int64_t t = 0; t < len; ++t) s.tokens.push_back(corpus.bytes()[start + t]);
      seqs.push_back(s);
    }
  } else {
    train::ClassificationData d = train::load_classification_data(cfg, run_dir.string(), train::Splits::only("test"));
    for (size_t i = 0; i < d.test.size() && i < 512; ++i) seqs.push_back({d.test[i].tokens, d.test[i].label});
  }
  if (seqs.empty()) throw std::runtime_error("inspect: no sequences to look at");

  nn::Module& model = run.task->model();

  const int window = cfg.at("model.mem_size");
  const bool causal = task == "lm" || !cfg.at("model.bidirectional").get<bool>();
  std::vector<report::RoutedExample> shown;
  train::RoutingStats routing(window, causal);
  int correct = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    report::RoutedExample ex = route_one(model, task, seqs[i], device);
    correct += ex.predicted >= 0 && ex.predicted == ex.label;
    for (size_t l = 0; l < ex.layers.size(); ++l) routing.add(l, ex.layers[l].active);
    if (static_cast<int>(shown.size()) < n_show) {
      ex.title = fmt::format("test example {}", i);
      shown.push_back(ex);
    }
  }
  const std::vector<train::LayerStats> stats = routing.layer_stats();

  train::MetricsSeries metrics;
  fs::path metrics_path = run_dir / "metrics.jsonl";
  if (fs::exists(metrics_path)) metrics = train::read_metrics_jsonl(metrics_path.string());
  std::string summary = fmt::format(
      "<p>Checkpoint <code>{}</code>, task <b>{}</b>, step {}. Statistics over {} {}.</p>", report::xml_escape(ckpt),
      task, run.step, seqs.size(), task == "lm" ? "corpus windows" : "test examples");
  if (task != "lm")
    summary += fmt::format("<p>Accuracy on these examples: {:.1f}%.</p>", 100.0 * correct / seqs.size());
  report::write_report(a.text("out"), fmt::format("SeqBoat SMA report: {}", task), shown, stats, metrics, summary);
  for (size_t l = 0; l < stats.size(); ++l)
    fmt::print("layer {}: density {:.1f}%, mean attention span {:.1f} positions\n", l, 100 * stats[l].density,
               stats[l].mean_span);
  fmt::print("report: {}\n", safe_text((fs::path(a.text("out")) / "report.html").string()));
  return 0;
}

}  // namespace seqboat::cli
