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
#include "train/config.h"
#include "train/presets.h"
#include "train/run_loader.h"
#include "train/tasks.h"
#include "train/trainer.h"

namespace seqboat::cli {

using nlohmann::json;
namespace fs = std::filesystem;

int cmd_train(const std::vector<std::string>& argv) {
  Args a(argv, {"task", "preset", "config", "set", "out", "stop-after", "device", "check-replicas"},
         {"resume", "overwrite", "help", "no-progress", "profile"});
  std::vector<std::string> sets = a.all("set");
  if (a.has("device")) sets.push_back("device=" + a.get("device"));  // --device X is --set device=X
  if (a.has("help") && a.has("preset")) {
    // The preset's resolved configuration, with any --config and --set applied.
    const std::string name = a.get("preset");
    fmt::print("{}", train::preset_help(name, train::resolve_preset_config(name, a.get("config"), sets)));
    return 0;
  }
  if (a.has("help")) {
    fmt::print(
        "usage: seqboat train --task TASK | --preset NAME  [--config FILE.json] [--set key=value ...] [--out DIR]\n"
        "                     [--device cpu|cuda] [--resume | --overwrite] [--stop-after STEP] [--no-progress]\n"
        "                     [--profile] [--check-replicas K]\n"
        "  tasks: listops, lm, recall, text, retrieval, image, pathfinder, speech, enwik8\n"
        "  presets (the official SeqBoat configurations; --preset NAME --help prints one resolved): {}\n"
        "  an --out directory that holds a run is refused unless --resume (continue it) or --overwrite (replace it)\n"
        "  --profile: at the end, the time spent in each kernel (training and evaluation; also SEQBOAT_PROFILE=1)\n"
        "  data-parallel: mpirun -np N seqboat train ... (README); --check-replicas K compares a hash of the\n"
        "  parameters and optimizer state across ranks every K steps and stops on a difference\n\n{}",
        train::preset_names(), train::config_help());
    return 0;
  }
  if (!a.has("task") && !a.has("preset")) return usage_error("train: --task or --preset is required (see --help)");
  json cfg;
  std::string task = a.get("task");
  if (a.has("preset")) {
    const train::Preset* p = train::find_preset(a.get("preset"));
    if (!p)
      return usage_error(fmt::format("train: unknown preset '{}'; valid presets: {}", a.get("preset"), train::preset_names()));
    if (a.has("task") && task != p->task)
      return usage_error(fmt::format("train: preset {} trains task {}, not --task {}", p->name, p->task, task));
    task = p->task;
    cfg = train::resolve_preset_config(p->name, a.get("config"), sets);
  } else {
    cfg = train::resolve_config(task, a.get("config"), sets);
  }
  const Device device = parse_device(cfg["device"].get<std::string>());
  if (!device_available(device)) return device_error("train", device);
  if (a.has("resume") && a.has("overwrite")) return usage_error("train: --resume and --overwrite exclude each other");
  train::TrainOptions opt;
  opt.out_dir = a.get("out", fmt::format("runs/{}", a.has("preset") ? a.get("preset") : task));
  opt.resume = a.has("resume");
  opt.overwrite = a.has("overwrite");
  opt.progress_bar = !a.has("no-progress");
  opt.stop_after = a.integer("stop-after", 0, 0, 1'000'000'000);
  opt.check_replicas_every = a.integer("check-replicas", 0, 0, 1'000'000'000);
  if (a.has("profile")) set_kernel_profiling(true);
  train::TrainSummary s = train::run_training(cfg, opt);
  if (!s.primary) return 0;  // a data-parallel rank other than 0: rank 0 reports
  if (task == "lm" || task == "enwik8")
    fmt::print("test loss {:.4f} ({:.4f} bits per byte) after {} steps, {:.1f} s of training\n", s.test_loss,
               s.bits_per_byte, s.steps, s.train_seconds);
  else
    fmt::print("test accuracy {:.4f} (loss {:.4f}) after {} steps, {:.1f} s of training\n", s.test_accuracy,
               s.test_loss, s.steps, s.train_seconds);
  fmt::print("checkpoint: {}\nmetrics: {}\n", s.checkpoint, (fs::path(opt.out_dir) / "metrics.jsonl").string());
  if (kernel_profiling()) fmt::print("\nkernel time (all kernel calls of the run):\n{}", kernel_profile_report());
  return 0;
}

int cmd_eval(const std::vector<std::string>& argv) {
  Args a(argv, {"checkpoint", "task", "data-dir", "split", "device"}, {"json", "help"});
  if (a.has("help") || !a.has("checkpoint")) {
    fmt::print(
        "usage: seqboat eval --checkpoint F --task listops|recall|lm [--data-dir DIR] [--split test|val] "
        "[--device cpu|cuda] [--json]\n");
    return a.has("help") ? 0 : 2;
  }
  const Device device = device_option(a);
  if (!device_available(device)) return device_error("eval", device);
  std::string split = a.get("split", "test");
  if (split != "test" && split != "val" && split != "train")
    return usage_error(fmt::format("eval: --split must be test, val or train, got '{}'", split));
  // Only the split evaluated is read: an LRA test file can be evaluated alone.
  train::LoadedRun r =
      train::load_run(a.get("checkpoint"), a.get("task"), a.get("data-dir"), device, train::Splits::only(split));
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

int cmd_generate(const std::vector<std::string>& argv) {
  Args a(argv, {"checkpoint", "prompt", "tokens", "temperature", "top-k", "seed", "device"}, {"help", "no-cache"});
  if (a.has("help") || !a.has("checkpoint")) {
    fmt::print(
        "usage: seqboat generate --checkpoint F --prompt TEXT [--tokens 200] [--temperature 0.8] [--top-k 40] [--seed "
        "0] [--device cpu|cuda] [--no-cache]\n"
        "  the whole history conditions every token (incremental decoding, constant work per token);\n"
        "  --temperature 0 is greedy; --no-cache recomputes the full forward over the history for every token\n");
    return a.has("help") ? 0 : 2;
  }
  const Device device = device_option(a);
  if (!device_available(device)) return device_error("generate", device);
  nn::GenerateOptions opt;
  opt.tokens = a.integer("tokens", 200, 0, 10'000'000);
  opt.temperature = a.number("temperature", 0.8, 0, 100);
  opt.top_k = a.integer("top-k", 40, 0, 256);
  opt.seed = static_cast<uint64_t>(a.integer("seed", 0, 0, INT64_MAX));
  opt.cache = !a.has("no-cache");
  train::LoadedRun r = train::load_run(a.get("checkpoint"), "lm", "", device, train::Splits::none());
  auto& lm = dynamic_cast<nn::SeqBoatLM&>(r.task->model());
  std::string text = a.get("prompt");
  if (text.empty()) text.push_back('\n');  // (push_back: GCC 12 warns falsely on = "\n", bug 105329)
  std::vector<int64_t> prompt;
  for (char ch : text) prompt.push_back(static_cast<uint8_t>(ch));
  fmt::print("{}", a.get("prompt"));
  nn::generate(lm, prompt, opt, [](int64_t token) {
    fmt::print("{}", static_cast<char>(token));
    std::fflush(stdout);
  });
  fmt::print("\n");
  return 0;
}

int cmd_data(const std::vector<std::string>& argv) {
  Args a(argv, {"out", "n-train", "n-val", "n-test", "seed", "max-depth", "max-args", "min-length", "max-length"},
         {"help"});
  if (a.has("help") || a.positional().size() != 1 || a.positional()[0] != "listops" || !a.has("out")) {
    fmt::print(
        "usage: seqboat data listops --out DIR [--n-train 40000 --n-val 2000 --n-test 2000 --seed 1\n"
        "                            --max-depth 4 --max-args 5 --min-length 32 --max-length 128]\n");
    return a.has("help") ? 0 : 2;
  }
  data::ListOpsGenConfig g;
  // Ranges as for the listops.* config keys (train/config_check.cpp).
  g.n_train = static_cast<int>(a.integer("n-train", g.n_train, 0, 10'000'000));
  g.n_val = static_cast<int>(a.integer("n-val", g.n_val, 0, 10'000'000));
  g.n_test = static_cast<int>(a.integer("n-test", g.n_test, 0, 10'000'000));
  g.seed = static_cast<uint64_t>(a.integer("seed", static_cast<int64_t>(g.seed), 0, 4294967295LL));
  g.max_depth = static_cast<int>(a.integer("max-depth", g.max_depth, 1, 32));
  g.max_args = static_cast<int>(a.integer("max-args", g.max_args, 2, 64));
  g.min_length = static_cast<int>(a.integer("min-length", g.min_length, 0, 1 << 20));
  g.max_length = static_cast<int>(a.integer("max-length", g.max_length, 2, 1 << 20));
  data::write_listops_splits(a.get("out"), g);
  fmt::print("wrote {}/basic_{{train,val,test}}.tsv ({} / {} / {} examples)\n", a.get("out"), g.n_train, g.n_val,
             g.n_test);
  return 0;
}

}  // namespace seqboat::cli
