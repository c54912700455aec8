// tests/test_hardening_runs.cpp: regression tests for the file readers' classes 4
// (checkpoint metadata and config validated when loaded), 6 (the lm
// evaluation read past its buffer), 8 (data and state: nothing the user had is
// destroyed, generated data follows its settings, no padding with example 0,
// no empty split scored as 0, stale temp files, bounded generator) and 9 (an
// LRA test file evaluated alone).
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/listops.h"
#include "nn/checkpoint.h"
#include "tensor/atomic_file.h"
#include "tensor/safetensors.h"
#include "test_util.h"
#include "train/config.h"
#include "train/run_loader.h"
#include "train/tasks.h"
#include "train/trainer.h"

using namespace seqboat;
using doctest::Contains;
using nlohmann::json;
using seqboat::testing::read_all;
using seqboat::testing::TempDir;
using seqboat::testing::write_all;
namespace fs = std::filesystem;

namespace {

json tiny_recall(std::vector<std::string> extra = {}) {
  std::vector<std::string> sets = {"steps=2",          "batch_size=4",     "eval_every=0",   "warmup_steps=1",
                                   "recall.n_train=16", "recall.n_test=8", "recall.n_pairs=2", "recall.n_keys=4",
                                   "recall.n_values=4", "model.d_model=8", "model.d_qk=4",     "model.d_ema=2",
                                   "model.mem_size=4"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return train::resolve_config("recall", "", sets);
}

std::string train_into(const fs::path& out, const json& cfg) {
  train::TrainOptions opt;
  opt.out_dir = out.string();
  opt.progress_bar = false;
  return train::run_training(cfg, opt).checkpoint;
}

// Rewrites one metadata entry of a checkpoint (or the config through `edit`).
void edit_checkpoint(const std::string& path, const std::function<void(StFile&)>& edit) {
  StFile f = read_safetensors(path);
  edit(f);
  write_safetensors(path, f);
}

void edit_config(const std::string& path, const std::function<void(json&)>& edit) {
  edit_checkpoint(path, [&](StFile& f) {
    json c = json::parse(f.metadata.at("config"));
    edit(c);
    f.metadata["config"] = c.dump();
  });
}

}  // namespace

TEST_CASE("class 4: a checkpoint's step, rng and config are validated when it is loaded") {
  TempDir dir;
  const std::string ckpt = train_into(dir.path / "run", tiny_recall());
  const fs::path copy = dir.path / "copy.safetensors";

  fs::copy_file(ckpt, copy);
  edit_checkpoint(copy.string(), [](StFile& f) { f.metadata["step"] = "-5"; });
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(copy.string()), Contains("malformed 'step' metadata '-5'"),
                       std::runtime_error);
  edit_checkpoint(copy.string(), [](StFile& f) { f.metadata["step"] = "99999999999999999999"; });
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(copy.string()), Contains("malformed 'step'"), std::runtime_error);

  fs::copy_file(ckpt, copy, fs::copy_options::overwrite_existing);
  edit_config(copy.string(), [](json& c) { c["batch_size"] = 0; });
  CHECK_THROWS_WITH_AS(train::load_run(copy.string(), "recall", ""),
                       Contains("config key 'batch_size': number 0 is out of range"), std::runtime_error);
  fs::copy_file(ckpt, copy, fs::copy_options::overwrite_existing);
  edit_config(copy.string(), [](json& c) { c.erase("lr"); });
  CHECK_THROWS_WITH_AS(train::load_run(copy.string(), "recall", ""), Contains("config key 'lr': missing"),
                       std::runtime_error);
  fs::copy_file(ckpt, copy, fs::copy_options::overwrite_existing);
  edit_config(copy.string(), [](json& c) { c["model.d_model"] = "8"; });
  CHECK_THROWS_WITH_AS(train::load_run(copy.string(), "recall", ""), Contains("config key 'model.d_model'"),
                       std::runtime_error);

  // --resume: the same checks, and the step must lie within the run.
  edit_checkpoint(ckpt, [](StFile& f) { f.metadata["step"] = "7"; });
  train::TrainOptions opt;
  opt.out_dir = (dir.path / "run").string();
  opt.resume = true;
  CHECK_THROWS_WITH_AS(train::run_training(tiny_recall(), opt), Contains("checkpoint step 7 is beyond the run's 2 steps"),
                       std::runtime_error);
}

TEST_CASE("class 6: an lm corpus part shorter than a window is an error, not a read past the buffer") {
  TempDir dir;
  write_all(dir.path / "small.txt", std::string(3000, 'a'));
  const json cfg = train::resolve_config(
      "lm", "", {"data.paths=[\"" + dir.file("small.txt") + "\"]", "lm.val_fraction=0.01", "lm.seq_len=128",
                 "model.d_model=8", "model.d_qk=4", "model.d_ema=2", "model.mem_size=4"});
  Generator g(0);
  CHECK_THROWS_WITH_AS(train::make_task(cfg, dir.path.string(), DType::Float32, g),
                       Contains("the validation part of the corpus is 30 bytes, shorter than a window"),
                       std::runtime_error);
  // generate needs no corpus at all.
  CHECK_NOTHROW(train::make_task(cfg, dir.path.string(), DType::Float32, g, Device::CPU, train::Splits::none()));
}

TEST_CASE("class 8: training into a directory that holds a run needs --resume or --overwrite; nothing is lost") {
  TempDir dir;
  const fs::path out = dir.path / "run";
  train_into(out, tiny_recall());
  const std::string metrics = read_all(out / "metrics.jsonl"), config = read_all(out / "config.json");
  REQUIRE(!metrics.empty());
  CHECK_THROWS_WITH_AS(train_into(out, tiny_recall({"lr=0.01"})), Contains("already holds a run"),
                       std::invalid_argument);
  // A resume whose config differs is refused before anything is written.
  train::TrainOptions opt;
  opt.out_dir = out.string();
  opt.resume = true;
  CHECK_THROWS_WITH_AS(train::run_training(tiny_recall({"lr=0.01"}), opt), Contains("config key 'lr'"),
                       std::runtime_error);
  CHECK(read_all(out / "metrics.jsonl") == metrics);
  CHECK(read_all(out / "config.json") == config);
  opt.resume = false;
  opt.overwrite = true;
  CHECK_NOTHROW(train::run_training(tiny_recall({"lr=0.01"}), opt));
}

TEST_CASE("class 8: generated listops data follows its settings, and every split read has examples") {
  TempDir dir;
  auto cfg_with = [&](int n_train) {
    return train::resolve_config("listops", "",
                                 {"listops.n_train=" + std::to_string(n_train), "listops.n_val=8", "listops.n_test=8"});
  };
  // Generated in memory; the files (generator.json last) are written by the
  // trainer once it may change the run directory.
  train::ClassificationData d = train::load_classification_data(cfg_with(20), dir.path.string(), {});
  CHECK(d.train.size() == 20);
  REQUIRE(d.pending.size() == 4);
  CHECK(d.pending.back().path == (dir.path / "data" / "generator.json").string());
  CHECK_FALSE(fs::exists(dir.path / "data"));
  train::write_pending_files(d.pending);
  CHECK(train::load_classification_data(cfg_with(20), dir.path.string(), {}).pending.empty());  // reused
  d = train::load_classification_data(cfg_with(30), dir.path.string(), {});  // other settings: generated again
  CHECK(d.train.size() == 30);
  CHECK(d.pending.size() == 4);

  write_all(dir.path / "data" / "basic_test.tsv", "Source\tTarget\n");
  json fixed = cfg_with(30);
  fixed["data.dir"] = (dir.path / "data").string();
  CHECK_THROWS_WITH_AS(train::load_classification_data(fixed, "", train::Splits::only("test")),
                       Contains("basic_test.tsv: the test split has no examples"), std::runtime_error);
}

TEST_CASE("class 8: a batch larger than the training split is refused (no padding with example 0)") {
  Generator g(0);
  CHECK_THROWS_WITH_AS(train::make_task(tiny_recall({"recall.n_train=3"}), "", DType::Float32, g),
                       Contains("config key 'batch_size': 4 is larger than the training split (3 examples)"),
                       std::runtime_error);
}

TEST_CASE("class 8: temp files of a killed writer are removed by the next write; live ones stay") {
  TempDir dir;
  const std::string target = dir.file("f.json");
  const std::string stale = target + ".tmp.999999999.0";            // no such process
  const std::string live = target + ".tmp." + std::to_string(getppid()) + ".3";  // a live process
  const std::string other = dir.file("g.json.tmp.999999999.0");     // another file's
  for (const std::string& p : {stale, live, other}) write_all(p, "partial");
  write_file_atomic(target, "{}");
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));
  CHECK(fs::exists(other));
  CHECK(read_all(target) == "{}");
}

TEST_CASE("class 8: the listops generator's memory is bounded for huge max_args") {
  data::ListOpsGenConfig g;
  g.max_depth = 64;
  g.max_args = 1000;
  g.n_train = 10;
  g.n_val = g.n_test = 0;
  CHECK_THROWS_WITH_AS(data::generate_listops(g), Contains("grew past"), UsageError);
  g.max_args = 100000;
  CHECK_THROWS_WITH_AS(data::generate_listops(g), Contains("max_args must be from 2 to 1000"), std::invalid_argument);
}

TEST_CASE("class 9: eval --split test reads only the test file") {
  TempDir dir;
  const json cfg = train::resolve_config(
      "listops", "",
      {"steps=2", "batch_size=8", "warmup_steps=1", "eval_every=0", "listops.n_train=32", "listops.n_val=8",
       "listops.n_test=8", "model.d_model=8", "model.d_qk=4", "model.d_ema=2", "model.mem_size=4"});
  const std::string ckpt = train_into(dir.path / "run", cfg);
  fs::create_directories(dir.path / "lra");
  fs::copy_file(dir.path / "run" / "data" / "basic_test.tsv", dir.path / "lra" / "basic_test.tsv");
  train::LoadedRun r =
      train::load_run(ckpt, "listops", (dir.path / "lra").string(), Device::CPU, train::Splits::only("test"));
  CHECK(r.task->evaluate("test", 0).examples == 8);
  CHECK_THROWS_AS(r.task->evaluate("val", 0), std::logic_error);
}
