// tools/cli/train_cmds.cpp: `seqboat train`, `eval`, `generate` and `data`.
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <filesystem>

#include "autograd/autograd.h"
#include "cli.h"
#include "data/listops.h"
#include "nn/checkpoint.h"
#include "nn/generation.h"
#include "ops/backend.h"
#include "ops/kernel_profile.h"
#include "ops/nn_ops.h"
#include "ops/shape.h"
#include "tensor/safe_text.h"
#include "train/config.h"
#include "train/presets.h"
#include "train/run_loader.h"
#include "train/tasks.h"
#include "train/trainer.h"

namespace seqboat::cli {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> preset_name_list() {
  std::vector<std::string> names;
  for (const train::Preset& p : train::presets()) names.push_back(p.name);
  return names;
}

}  // namespace

const CommandSpec& train_spec() {
  static const CommandSpec s{
      "train",
      "train a model (`seqboat train --help` lists every config key with its range, and the presets)",
      "",
      0,
      0,
      {},
      {choice_option("task", {"listops", "lm", "recall", "text", "retrieval", "image", "pathfinder", "speech", "enwik8"},
                     "", "what to train (or --preset)"),
       choice_option("preset", preset_name_list(), "",
                     "an official SeqBoat configuration: its task, model and schedule (`--preset NAME --help` prints "
                     "it resolved)"),
       text_option("config", "FILE.json", "a JSON config (flat dotted keys or nested sections)"),
       repeatable(text_option("set", "KEY=VALUE", "one config key, after the file")),
       text_option("out", "DIR", "the run directory", "runs/TASK or runs/PRESET"), device_option_spec(),
       flag_option("resume", "continue the run in --out from its checkpoint"),
       flag_option("overwrite", "replace the run in --out (kept until the new run's first checkpoint)"),
       integer_option("stop-after", 0, 1'000'000'000, 0,
                      "stop with a checkpoint after this step, as an interruption would (0 = run to the end)"),
       integer_option("check-replicas", 0, 1'000'000'000, 0,
                      "data-parallel: compare a hash of the parameters and optimizer state across ranks every K "
                      "steps and stop on a difference (0 = never)"),
       flag_option("no-progress", "plain progress lines even on a terminal"),
       flag_option("profile", "at the end, the time spent in each kernel (also SEQBOAT_PROFILE=1)")},
      "--task or --preset is required; an --out directory that holds a run is refused unless --resume (continue "
      "it) or --overwrite (replace it)\ndata-parallel: mpirun -np N seqboat train ... (README)\n\n" +
          train::config_help()};
  return s;
}

json train_config(const ParsedArgs& a, const std::function<std::string(const std::string&)>& read_config) {
  if (a.has("resume") && a.has("overwrite")) throw UsageError("--resume and --overwrite exclude each other");
  std::vector<std::string> sets = a.all("set");
  if (a.has("device")) sets.push_back("device=" + a.text("device"));  // --device X is --set device=X
  std::string task = a.text("task");
  json preset = json::object();
  if (a.has("preset")) {
    const train::Preset* p = train::find_preset(a.text("preset"));  // one of the option's choices
    if (a.has("task") && task != p->task)
      throw UsageError(fmt::format("preset {} trains task {}, not --task {}", p->name, p->task, task));
    task = p->task;
    preset = p->values;
  } else if (!a.has("task")) {
    throw UsageError("--task or --preset is required");
  }
  const std::string file = a.text("config");
  if (read_config && !file.empty()) return train::resolve_config_text(task, read_config(file), file, sets, preset);
  return train::resolve_config(task, file, sets, preset);
}

std::string train_help(const ParsedArgs& a) {
  if (!a.has("preset")) return command_help(train_spec());
  // The preset's resolved configuration, with any --config and --set applied.
  return train::preset_help(a.text("preset"), train_config(a, {}));
}

int cmd_train(const ParsedArgs& a) {
  const json cfg = train_config(a, {});
  const std::string task = cfg.at("task");
  const Device device = parse_device(cfg["device"].get<std::string>());
  if (!device_available(device)) return device_error("train", device);
  train::TrainOptions opt;
  opt.out_dir = a.text("out", fmt::format("runs/{}", a.has("preset") ? a.text("preset") : task));
  opt.resume = a.has("resume");
  opt.overwrite = a.has("overwrite");
  opt.progress_bar = !a.has("no-progress");
  opt.stop_after = a.integer("stop-after", 0);
  opt.check_replicas_every = a.integer("check-replicas", 0);
  if (a.has("profile")) set_kernel_profiling(true);
  train::TrainSummary s = train::run_training(cfg, opt);
  if (!s.primary) return 0;  // a data-parallel rank other than 0: rank 0 reports
  if (task == "lm" || task == "enwik8")
    fmt::print("test loss {:.4f} ({:.4f} bits per byte) after {} steps, {:.1f} s of training\n", s.test_loss,
               s.bits_per_byte, s.steps, s.train_seconds);
  else
    fmt::print("test accuracy {:.4f} (loss {:.4f}) after {} steps, {:.1f} s of training\n", s.test_accuracy,
               s.test_loss, s.steps, s.train_seconds);
  fmt::print("checkpoint: {}\nmetrics: {}\n", safe_text(s.checkpoint),
             safe_text((fs::path(opt.out_dir) / "metrics.jsonl").string()));
  if (kernel_profiling()) fmt::print("\nkernel time (all kernel calls of the run):\n{}", kernel_profile_report());
  return 0;
}

const CommandSpec& eval_spec() {
  static const CommandSpec s{
      "eval",
      "loss and accuracy of a checkpoint on a data split",
      "",
      0,
      0,
      {},
      {required(text_option("checkpoint", "FILE", "the checkpoint (checkpoint.safetensors of a run)")),
       task_option_spec("must be the checkpoint's task when given"),
       text_option("data-dir", "DIR", "ListOps: read basic_<split>.tsv here (default: the run's data)"),
       choice_option("split", {"test", "val", "train"}, "test", "the split to evaluate (only it is read)"),
       device_option_spec(), flag_option("json", "one JSON line instead of text"),
       flag_option("allow-nonfinite", "evaluate a checkpoint whose weights hold NaN or infinity (refused otherwise)")},
      ""};
  return s;
}

int cmd_eval(const ParsedArgs& a) {
  const Device device = device_option(a);
  if (!device_available(device)) return device_error("eval", device);
  const std::string split = a.text("split", "test");
  // Only the split evaluated is read: an LRA test file can be evaluated alone.
  train::LoadedRun r = train::load_run(a.text("checkpoint"), a.text("task"), a.text("data-dir"), device,
                                       train::Splits::only(split), a.has("allow-nonfinite"));
  train::EvalResult e = r.task->evaluate(split, 0);
  if (a.has("json")) {
    json j = {{"split", split}, {"loss", e.loss}, {"accuracy", e.accuracy}, {"examples", e.examples}};
    if (r.task->reports_bits_per_byte()) j["bits_per_byte"] = e.loss / std::log(2.0);
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{} split: loss {:.4f}, accuracy {:.4f} over {} {}\n", split, e.loss, e.accuracy, e.examples,
               r.task->reports_bits_per_byte() ? "bytes" : "examples");
  }
  return 0;
}

const CommandSpec& generate_spec() {
  static const CommandSpec s{
      "generate",
      "sample bytes from an lm checkpoint",
      "",
      0,
      0,
      {},
      {required(text_option("checkpoint", "FILE", "an lm checkpoint")),
       text_option("prompt", "TEXT", "the text to continue (empty: a newline)"),
       integer_option("tokens", 0, 10'000'000, 200, "bytes to generate"),
       number_option("temperature", 0, 100, 0.8, "sampling temperature (0 = greedy)"),
       integer_option("top-k", 0, 256, 40, "sample among the k most likely bytes (0 = all)"),
       integer_option("seed", 0, INT64_MAX, 0, "sampling seed"), device_option_spec(),
       flag_option("no-cache", "recompute the full forward over the history for every token (a check; slow)"),
       flag_option("allow-nonfinite",
                   "sample from a checkpoint whose weights hold NaN or infinity (refused otherwise)")},
      "the whole history conditions every token (incremental decoding, constant work per token)\n"};
  return s;
}

int cmd_generate(const ParsedArgs& a) {
  const Device device = device_option(a);
  if (!device_available(device)) return device_error("generate", device);
  nn::GenerateOptions opt;
  opt.tokens = a.integer("tokens", 200);
  opt.temperature = a.number("temperature", 0.8);
  opt.top_k = a.integer("top-k", 40);
  opt.seed = static_cast<uint64_t>(a.integer("seed", 0));
  opt.cache = !a.has("no-cache");
  train::LoadedRun r =
      train::load_run(a.text("checkpoint"), "lm", "", device, train::Splits::none(), a.has("allow-nonfinite"));
  auto* lm = dynamic_cast<nn::SeqBoatLM*>(&r.task->model());
  if (!lm) throw std::logic_error("generate: the lm task has no language model");
  std::string text = a.text("prompt");
  if (text.empty()) text.push_back('\n');  // (push_back: GCC 12 warns falsely on = "\n", bug 105329)
  std::vector<int64_t> prompt;
  for (char ch : text) prompt.push_back(static_cast<uint8_t>(ch));
  fmt::print("{}", a.text("prompt"));
  nn::generate(*lm, prompt, opt, [](int64_t token) {
    fmt::print("{}", static_cast<char>(token));
    std::fflush(stdout);
  });
  fmt::print("\n");
  return 0;
}

const CommandSpec& data_spec() {
  static const CommandSpec s{
      "data",
      "write generated ListOps TSV files (LRA format)",
      "listops",
      1,
      1,
      {"listops"},
      {required(text_option("out", "DIR", "the directory for basic_{train,val,test}.tsv")),
       // Ranges as for the listops.* config keys.
       config_key_option("n-train", "listops.n_train", "training examples"),
       config_key_option("n-val", "listops.n_val", "validation examples"),
       config_key_option("n-test", "listops.n_test", "test examples"),
       config_key_option("seed", "seed", "generator seed"),
       config_key_option("max-depth", "listops.max_depth", "maximum tree depth"),
       config_key_option("max-args", "listops.max_args", "maximum operator arguments"),
       config_key_option("min-length", "listops.min_length", "keep sequences longer than this"),
       config_key_option("max-length", "listops.max_length", "keep sequences shorter than this")},
      ""};
  return s;
}

data::ListOpsGenConfig listops_gen_options(const ParsedArgs& a) {
  data::ListOpsGenConfig g;
  g.n_train = static_cast<int>(a.integer("n-train", g.n_train));  // ranges (checked): all fit int
  g.n_val = static_cast<int>(a.integer("n-val", g.n_val));
  g.n_test = static_cast<int>(a.integer("n-test", g.n_test));
  g.seed = static_cast<uint64_t>(a.integer("seed", static_cast<int64_t>(g.seed)));
  g.max_depth = static_cast<int>(a.integer("max-depth", g.max_depth));
  g.max_args = static_cast<int>(a.integer("max-args", g.max_args));
  g.min_length = static_cast<int>(a.integer("min-length", g.min_length));
  g.max_length = static_cast<int>(a.integer("max-length", g.max_length));
  return g;
}

int cmd_data(const ParsedArgs& a) {
  const data::ListOpsGenConfig g = listops_gen_options(a);
  data::check_listops_gen_config(g);  // the settings together (UsageError)
  data::write_listops_splits(a.text("out"), g);
  fmt::print("wrote {}/basic_{{train,val,test}}.tsv ({} / {} / {} examples)\n", safe_text(a.text("out")), g.n_train,
             g.n_val, g.n_test);
  return 0;
}

}  // namespace seqboat::cli
