// tests/test_train.cpp: the training loop end to end on tiny tasks: config
// errors, loss falls, metrics/config/checkpoint files, exact resume, and the
// stop on a non-finite loss.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/listops.h"
#include "nn/checkpoint.h"
#include "test_util.h"
#include "train/config.h"
#include "train/trainer.h"

using namespace seqboat;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using seqboat::testing::TempDir;

std::vector<json> read_events(const fs::path& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

// A small ListOps run (data generated once into `dir/data`).
json tiny_listops(const fs::path& data_dir) {
  if (!fs::exists(data_dir / "basic_test.tsv")) {
    data::ListOpsGenConfig g;
    g.n_train = 256;
    g.n_val = 32;
    g.n_test = 32;
    g.seed = 5;
    data::write_listops_splits(data_dir.string(), g);
  }
  return train::resolve_config(
      "listops", "",
      {"data.dir=" + data_dir.string(), "steps=24", "batch_size=8", "warmup_steps=4", "log_every=4", "eval_every=8",
       "model.d_model=16", "model.d_qk=8", "model.d_ema=2", "model.mem_size=4", "model.dropout=0.1"});
}

}  // namespace

TEST_CASE("config: defaults, overrides and errors that name the problem") {
  json c = train::resolve_config("listops", "", {"model.d_model=32", "lr=0.01", "decay=cosine"});
  CHECK(c["model.d_model"] == 32);
  CHECK(c["lr"].get<double>() == 0.01);
  CHECK(c["decay"] == "cosine");
  CHECK_THROWS_WITH_AS(train::resolve_config("listops", "", {"model.d_modle=32"}),
                       doctest::Contains("unknown config key 'model.d_modle'; valid keys: task, seed"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_config("listops", "", {"decay=exponential"}),
                       doctest::Contains("'exponential' is not one of: constant, linear, cosine"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_config("listops", "", {"steps=many"}), doctest::Contains("cannot parse 'many'"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_config("listops", "", {"model.prenorm=3"}),
                       doctest::Contains("expected true or false"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_config("listops", "", {"lr"}), doctest::Contains("expected key=value"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_config("chess", "", {}), doctest::Contains("unknown task 'chess'"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_config("listops", "/nonexistent/c.json", {}),
                       doctest::Contains("config file /nonexistent/c.json: cannot open"), std::invalid_argument);
  TempDir tmp_d;
  fs::path d = tmp_d.path;
  std::ofstream(d / "bad.json") << "{\"model\": {\"d_model\": 48, \"colour\": 1}}";
  CHECK_THROWS_WITH_AS(train::resolve_config("listops", (d / "bad.json").string(), {}),
                       doctest::Contains("unknown key 'model.colour'"), std::invalid_argument);
  std::ofstream(d / "good.json") << "{\"model\": {\"d_model\": 48}, \"steps\": 7}";
  json g = train::resolve_config("listops", (d / "good.json").string(), {"steps=9", "warmup_steps=2"});
  CHECK(g["model.d_model"] == 48);
  CHECK(g["steps"] == 9);  // --set wins over the file
  CHECK(train::config_help().find("model.mem_size") != std::string::npos);
}

TEST_CASE("a short recall run: loss falls, files are written") {
  TempDir tmp_out;
  fs::path out = tmp_out.path;
  json c =
      train::resolve_config("recall", "",
                            {"steps=150", "batch_size=16", "warmup_steps=10", "log_every=25", "eval_every=0",
                             "recall.n_train=800", "recall.n_test=64", "recall.n_pairs=4", "recall.n_keys=8",
                             "recall.n_values=8", "model.d_model=32", "model.d_qk=16", "model.mem_size=8", "lr=0.005"});
  train::TrainOptions opt;
  opt.out_dir = out.string();
  train::TrainSummary s = train::run_training(c, opt);
  CHECK(s.steps == 150);
  std::vector<json> ev = read_events(out / "metrics.jsonl");
  REQUIRE(ev.size() >= 3);
  double first = ev.front()["loss"], last = ev[ev.size() - 2]["loss"];
  CHECK(ev.front()["event"] == "train");
  CHECK(last < first - 0.2);
  json fin = ev.back();
  CHECK(fin["event"] == "final");
  for (const char* k : {"test_accuracy", "test_loss", "steps", "train_seconds"}) CHECK(fin.contains(k));
  CHECK(fs::exists(out / "config.json"));
  nn::Checkpoint ck = nn::load_checkpoint((out / "checkpoint.safetensors").string());
  CHECK(ck.step == 150);
  CHECK(ck.model.count("seq_layers.0.mx_proj.weight") == 1);
  CHECK(ck.model.count("seq_layers.0.norm.norm.weight") == 1);
  CHECK(json::parse(ck.config_json)["recall.n_pairs"] == 4);
}

TEST_CASE("a run stopped at step k and resumed gives the same losses, bit for bit") {
  // With argument shuffling too: the augmentation is seeded by step, not saved.
  for (bool shuffle_args : {false, true}) {
    CAPTURE(shuffle_args);
    TempDir tmp_base;
    fs::path base = tmp_base.path;
    json c = tiny_listops(base / "data");
    c["listops.shuffle_args"] = shuffle_args;
    train::TrainOptions straight;
    straight.out_dir = (base / "straight").string();
    train::TrainSummary a = train::run_training(c, straight);

    train::TrainOptions part;
    part.out_dir = (base / "resumed").string();
    part.stop_after = 8;
    train::run_training(c, part);
    CHECK(nn::load_checkpoint((base / "resumed" / "checkpoint.safetensors").string()).step == 8);
    part.stop_after = 0;
    part.resume = true;
    train::TrainSummary b = train::run_training(c, part);

    auto losses = [](const fs::path& p) {
      std::vector<std::pair<int64_t, double>> out;
      for (const json& e : read_events(p))
        if (e["event"] == "train") out.emplace_back(e["step"].get<int64_t>(), e["loss"].get<double>());
      return out;
    };
    auto la = losses(base / "straight" / "metrics.jsonl"), lb = losses(base / "resumed" / "metrics.jsonl");
    REQUIRE(la.size() == 6);
    CHECK(la == lb);
    CHECK(a.test_loss == b.test_loss);
    CHECK(a.test_accuracy == b.test_accuracy);
    if (!shuffle_args) continue;

    // Resuming with a different model is refused, naming the key.
    json other = c;
    other["model.d_model"] = 24;
    train::TrainOptions again = part;
    CHECK_THROWS_WITH_AS(train::run_training(other, again), doctest::Contains("config key 'model.d_model'"),
                         std::runtime_error);
  }
}

TEST_CASE("a non-finite loss stops training, naming the step, and keeps the last good checkpoint") {
  TempDir tmp_base;
  fs::path base = tmp_base.path;
  json c = tiny_listops(base / "data");
  c["optimizer"] = "sgd";
  c["lr"] = 1e30;
  c["clip_norm"] = 0.0;
  c["warmup_steps"] = 0;
  c["decay"] = "constant";
  c["steps"] = 24;
  train::TrainOptions opt;
  opt.out_dir = (base / "run").string();
  CHECK_THROWS_WITH_AS(train::run_training(c, opt), doctest::Contains("non-finite"), std::runtime_error);
  opt.overwrite = true;  // the failed run left its files: a second run must say it replaces them
  try {
    train::run_training(c, opt);
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("at step") != std::string::npos);
  }
}

TEST_CASE("a malformed training expression is refused by the reader, naming the file and line") {
  TempDir tmp_base;
  fs::path base = tmp_base.path;
  fs::create_directories(base / "data");
  auto write = [&](const std::string& name, const std::string& rows) {
    std::ofstream(base / "data" / name) << "Source\tTarget\n" << rows;
  };
  write("basic_train.tsv", "[MAX 1 2 ]\t2\n[MIN 3 [MAX 4 5 ]\t3\n[SM 1 2 ]\t3\n");  // example 2 lacks a ']'
  write("basic_val.tsv", "[MAX 1 2 ]\t2\n");
  write("basic_test.tsv", "[MIN 1 2 ]\t1\n");
  json c =
      train::resolve_config("listops", "",
                            {"data.dir=" + (base / "data").string(), "steps=2", "warmup_steps=1", "batch_size=2",
                             "eval_every=0", "model.d_model=8", "model.d_qk=4", "model.d_ema=2", "model.mem_size=2"});
  train::TrainOptions opt;
  opt.out_dir = (base / "run").string();
  // The same rule whether or not the arguments are shuffled (and for eval
  // and inspect, which read through the same reader).
  for (bool shuffle : {true, false}) {
    c["listops.shuffle_args"] = shuffle;
    CHECK_THROWS_WITH_AS(train::run_training(c, opt),
                         doctest::Contains("basic_train.tsv: line 3: not one well-formed expression"),
                         std::runtime_error);
    CHECK_FALSE(fs::exists(base / "run"));  // a failed start leaves nothing behind
  }
}
