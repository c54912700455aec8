// tests/test_hardening_state.cpp: what a run keeps and what it refuses.
// Non-finite checkpoints are refused on load (naming the tensor and index)
// unless asked for; a run directory changes as a transaction (a failure
// before the first checkpoint puts back what was there); generators are
// bounded by the work they may do; a thread count above the work runs.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "data/listops.h"
#include "data/listops_tsv.h"
#include "data/recall.h"
#include "nn/checkpoint.h"
#include "nn/layers.h"
#include "ops/backend.h"
#include "ops/linalg.h"
#include "tensor/random.h"
#include "test_util.h"
#include "tiny_config.h"
#include "train/config.h"
#include "train/run_dir.h"
#include "train/run_loader.h"
#include "train/tasks.h"
#include "train/trainer.h"

using namespace seqboat;
using doctest::Contains;
using nlohmann::json;
using seqboat::testing::read_all;
using seqboat::testing::TempDir;
using seqboat::testing::tiny_recall;
using seqboat::testing::write_all;
namespace fs = std::filesystem;

namespace {

train::TrainOptions options(const fs::path& out) {
  train::TrainOptions opt;
  opt.out_dir = out.string();
  opt.progress_bar = false;
  return opt;
}

// A config that diverges at its first step: SGD at lr 1e30, no clipping, no
// checkpoint before the end.
json diverging(std::vector<std::string> extra = {}) {
  extra.insert(extra.end(),
               {"optimizer=sgd", "lr=1e30", "clip_norm=0", "decay=constant", "warmup_steps=0", "steps=20"});
  return tiny_recall(extra);
}

// Every file under dir with its bytes, to compare a directory before and after.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    out[fs::relative(e.path(), dir).string()] = e.is_regular_file() ? read_all(e.path()) : "<dir>";
  return out;
}

void set_value(const std::string& ckpt, const std::string& tensor, double value) {
  nn::Checkpoint c = nn::load_checkpoint(ckpt);
  auto& part = tensor.rfind("optim.", 0) == 0 ? c.optimizer : c.model;
  Tensor& t = part.at(tensor);
  t.set(std::vector<int64_t>(static_cast<size_t>(t.dim()), 0), value);  // the first element
  nn::save_checkpoint(ckpt, c);
}

}  // namespace

TEST_CASE("non-finite weights: refused by load_run and --resume, naming the tensor and index") {
  TempDir dir;
  const fs::path run = dir.path / "run";
  const std::string ckpt = train::run_training(tiny_recall(), options(run)).checkpoint;
  const std::string bad = dir.file("bad.safetensors");
  fs::copy_file(ckpt, bad);
  set_value(bad, "decoder.bias", std::numeric_limits<double>::quiet_NaN());
  CHECK_THROWS_WITH_AS(train::load_run(bad, "recall", ""),
                       Contains("the weights are not finite: tensor 'decoder.bias' holds nan at index 0 (of 4)"),
                       std::runtime_error);
  // Asked for explicitly, it loads (to look at a broken run).
  train::LoadedRun r = train::load_run(bad, "recall", "", Device::CPU, {}, true);
  CHECK(std::isnan(r.task->evaluate("test", 0).loss));
  set_value(bad, "decoder.bias", 0.5);
  set_value(bad, "encoder.weight", -std::numeric_limits<double>::infinity());
  CHECK_THROWS_WITH_AS(train::load_run(bad, "recall", ""), Contains("tensor 'encoder.weight' holds -inf at index 0"),
                       std::runtime_error);

  // --resume checks the optimizer state too; the run's files stay as they were.
  set_value(ckpt, "optim.exp_avg.decoder.bias", std::numeric_limits<double>::infinity());
  const auto before = snapshot(run);
  train::TrainOptions resume = options(run);
  resume.resume = true;
  json more = tiny_recall();
  CHECK_THROWS_WITH_AS(train::run_training(more, resume), Contains("not finite, cannot resume"), std::runtime_error);
  CHECK(snapshot(run) == before);
}

TEST_CASE("first_nonfinite: the first bad element in name order, any floating dtype") {
  std::map<std::string, Tensor> t = {
      {"a", zeros({3}, DType::Float32)}, {"b", zeros({2, 2}, DType::Float64)}, {"c", zeros({2}, DType::Int64)}};
  CHECK(nn::first_nonfinite(t).empty());
  t["b"].set({1, 0}, std::numeric_limits<double>::infinity());
  CHECK(nn::first_nonfinite(t) == "tensor 'b' holds inf at index 2 (of 4)");
  t["a"].set({2}, std::numeric_limits<double>::quiet_NaN());
  CHECK(nn::first_nonfinite(t) == "tensor 'a' holds nan at index 2 (of 3)");
}

TEST_CASE("--overwrite: a run that fails before its first checkpoint puts the old run back") {
  TempDir dir;
  const fs::path run = dir.path / "run";
  train::run_training(tiny_recall(), options(run));
  write_all(run / "notes.txt", "the user's own file");
  const auto before = snapshot(run);
  train::TrainOptions over = options(run);
  over.overwrite = true;
  CHECK_THROWS_WITH_AS(train::run_training(diverging(), over), Contains("non-finite loss"), std::runtime_error);
  CHECK(snapshot(run) == before);  // config.json, metrics.jsonl, checkpoint, notes.txt: all as they were
  // A config the model cannot take is refused before anything moves.
  CHECK_THROWS_AS(train::run_training(tiny_recall({"model.rel_pos_bias=rotary", "model.d_qk=5"}), over), UsageError);
  CHECK(snapshot(run) == before);
  // A successful overwrite replaces the run and removes what it kept aside.
  CHECK_NOTHROW(train::run_training(tiny_recall({"lr=0.01"}), over));
  CHECK_FALSE(fs::exists(run / train::kReplacedRunDir));
  CHECK(read_all(run / "notes.txt") == "the user's own file");
  CHECK(json::parse(read_all(run / "config.json"))["lr"] == 0.01);
}

TEST_CASE("a failed start in a new directory leaves nothing behind; in an existing one, what was there") {
  TempDir dir;
  const fs::path nested = dir.path / "a" / "b" / "run";
  CHECK_THROWS_WITH_AS(train::run_training(diverging(), options(nested)), Contains("non-finite loss"),
                       std::runtime_error);
  CHECK(dir.entries().empty());  // not even a/
  fs::create_directories(dir.path / "mine");
  write_all(dir.path / "mine" / "keep.txt", "x");
  CHECK_THROWS(train::run_training(diverging(), options(dir.path / "mine")));
  CHECK(snapshot(dir.path / "mine") == std::map<std::string, std::string>{{"keep.txt", "x"}});
  // Generated ListOps data is written in the transaction too.
  const json listops =
      train::resolve_config("listops", "",
                            {"steps=20", "batch_size=4", "warmup_steps=0", "eval_every=0", "listops.n_train=16",
                             "listops.n_val=8", "listops.n_test=8", "model.d_model=8", "model.d_qk=4", "model.d_ema=2",
                             "model.mem_size=4", "optimizer=sgd", "lr=1e30", "clip_norm=0", "decay=constant"});
  CHECK_THROWS(train::run_training(listops, options(dir.path / "lo")));
  CHECK_FALSE(fs::exists(dir.path / "lo"));
}

TEST_CASE("--resume that fails before its first new checkpoint restores config.json and metrics.jsonl") {
  TempDir dir;
  const fs::path run = dir.path / "run";
  // One step at lr 1e30 leaves finite but useless weights, checkpointed at
  // step 1; resuming, the next step's loss is not finite.
  const json cfg = diverging({"eval_every=1"});
  train::TrainOptions opt = options(run);
  opt.stop_after = 1;
  train::run_training(cfg, opt);
  const auto before = snapshot(run);
  REQUIRE(before.count("metrics.jsonl"));
  train::TrainOptions resume = options(run);
  resume.resume = true;
  CHECK_THROWS_WITH_AS(train::run_training(cfg, resume), Contains("non-finite loss"), std::runtime_error);
  CHECK(snapshot(run) == before);  // the resume's truncated metrics.jsonl and new config.json are undone
}

TEST_CASE("the same ListOps validation whether a file is read for training, evaluation or inspection") {
  const char* bad[][2] = {{"[MAX 2 3\t3\n", "1 unclosed operator"},
                          {"]\t1\n", "unmatched ']'"},
                          {"[MAX 1 2 ] 3\t2\n", "extra tokens after the expression"},
                          {"[SM ]\t0\n", "operator with no arguments"}};
  for (const auto& [row, why] : bad) {
    CAPTURE(row);
    const std::string text = std::string("Source\tTarget\n[MIN 1 2 ]\t1\n") + row;
    CHECK_THROWS_WITH_AS(data::parse_listops_tsv(text, "t.tsv"), Contains("t.tsv: line 3: not one well-formed"),
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(data::parse_listops_tsv(text, "t.tsv"), Contains(why), std::runtime_error);
  }
  // eval (load_run reads only the test split) refuses what training refuses.
  TempDir dir;
  const json cfg = train::resolve_config(
      "listops", "",
      {"steps=2", "batch_size=4", "warmup_steps=1", "eval_every=0", "listops.n_train=16", "listops.n_val=8",
       "listops.n_test=8", "model.d_model=8", "model.d_qk=4", "model.d_ema=2", "model.mem_size=4"});
  const std::string ckpt = train::run_training(cfg, options(dir.path / "run")).checkpoint;
  fs::create_directories(dir.path / "lra");
  write_all(dir.path / "lra" / "basic_test.tsv", "Source\tTarget\n[MAX 2 3\t3\n");
  CHECK_THROWS_WITH_AS(train::load_run(ckpt, "listops", dir.file("lra"), Device::CPU, train::Splits::only("test")),
                       Contains("basic_test.tsv: line 2: not one well-formed expression"), std::runtime_error);
}

TEST_CASE("RunDirTransaction: rollback and commit, and a left-over .replaced-run is refused") {
  TempDir dir;
  const fs::path out = dir.path / "run";
  fs::create_directories(out);
  write_all(out / "config.json", "old config");
  write_all(out / "metrics.jsonl", "old metrics");
  {
    train::RunDirTransaction tx(out, train::RunDirTransaction::Mode::Overwrite, false);
    CHECK_FALSE(fs::exists(out / "config.json"));
    CHECK(read_all(out / train::kReplacedRunDir / "config.json") == "old config");
    write_all(out / "config.json", "new config");
    CHECK(tx.rollback().empty());
  }
  CHECK(read_all(out / "config.json") == "old config");
  CHECK(read_all(out / "metrics.jsonl") == "old metrics");
  CHECK_FALSE(fs::exists(out / train::kReplacedRunDir));
  {
    train::RunDirTransaction tx(out, train::RunDirTransaction::Mode::Resume, false);
    write_all(out / "metrics.jsonl", "truncated");  // (a resume rewrites it)
  }                                                 // destroyed without commit: rolled back
  CHECK(read_all(out / "metrics.jsonl") == "old metrics");
  {
    train::RunDirTransaction tx(out, train::RunDirTransaction::Mode::Overwrite, false);
    write_all(out / "config.json", "new config");
    tx.commit();
  }
  CHECK(read_all(out / "config.json") == "new config");
  CHECK_FALSE(fs::exists(out / "metrics.jsonl"));  // replaced runs leave nothing of theirs
  CHECK_FALSE(fs::exists(out / train::kReplacedRunDir));

  // A process killed inside a transaction leaves .replaced-run: the next
  // train refuses to start until the user has looked at it.
  fs::create_directories(out / train::kReplacedRunDir);
  CHECK_THROWS_WITH_AS(train::check_run_dir(out, false, true), Contains("interrupted --overwrite"), std::runtime_error);
}

TEST_CASE("check_run_dir: --out naming a file, a run without --resume or --overwrite") {
  TempDir dir;
  write_all(dir.path / "file", "x");
  CHECK_THROWS_WITH_AS(train::check_run_dir(dir.path / "file", false, false), Contains("is not a directory"),
                       UsageError);
  fs::create_directories(dir.path / "run");
  write_all(dir.path / "run" / "metrics.jsonl", "");
  CHECK_THROWS_WITH_AS(train::check_run_dir(dir.path / "run", false, false), Contains("already holds a run"),
                       UsageError);
  CHECK_NOTHROW(train::check_run_dir(dir.path / "run", false, true));
  CHECK_THROWS_WITH_AS(train::check_run_dir(dir.path / "run", true, false), Contains("--resume: no checkpoint"),
                       std::runtime_error);
}

TEST_CASE("the ListOps generator's work is bounded, and an impossible window names the settings") {
  data::ListOpsGenConfig g;
  g.n_train = 10;
  g.n_val = g.n_test = 1;
  g.max_depth = 6;
  g.max_args = 64;
  g.min_length = 1000000;
  g.max_length = 1048576;
  CHECK_THROWS_WITH_AS(data::generate_listops(g),
                       Contains("no tree in the length window: 0 of the 12 examples found after drawing"), UsageError);
  CHECK_THROWS_WITH_AS(data::generate_listops(g), Contains("max_depth 6, max_args 64, min_length 1000000"), UsageError);
  // Too few distinct trees for the examples asked for (410 exist).
  g = data::ListOpsGenConfig();
  g.max_depth = 2;
  g.max_args = 2;
  g.min_length = 0;
  g.max_length = 7;
  g.n_train = 1000;
  g.n_val = g.n_test = 1;
  CHECK_THROWS_WITH_AS(data::generate_listops(g), Contains("at this rate the rest would need more than"), UsageError);
  g.n_train = 300;  // possible: found
  CHECK(data::generate_listops(g).train.size() == 300);
  // The settings checked together, before any drawing.
  g.max_depth = 1;
  g.min_length = 100;
  g.max_length = 200;
  CHECK_THROWS_WITH_AS(data::check_listops_gen_config(g), Contains("the longest tree (max_depth 1"), UsageError);
  CHECK_THROWS_WITH_AS(train::resolve_config("listops", "", {"listops.max_depth=1", "listops.min_length=100"}),
                       Contains("config keys listops.*: listops gen: the longest tree"), UsageError);
}

TEST_CASE("recall generation does O(n_pairs) work per example, with the same draws") {
  data::RecallConfig rc;
  rc.n_pairs = 3;
  rc.n_keys = 1 << 20;  // was refilled in full for every example
  rc.n_values = 5;
  const auto ex = data::make_recall(rc, 20000, 1);
  CHECK(ex.size() == 20000);
  for (const auto& e : ex) {  // distinct keys, the query one of them
    CHECK(e.tokens[0] != e.tokens[2]);
    CHECK(e.tokens[2] != e.tokens[4]);
    CHECK(e.tokens[0] != e.tokens[4]);
  }
  // The draws do not depend on the vocabulary beyond the keys they pick:
  // the same seed gives the same examples run after run.
  CHECK(data::make_recall(rc, 50, 7)[49].tokens == data::make_recall(rc, 50, 7)[49].tokens);
  CHECK_THROWS_WITH_AS(train::resolve_config("recall", "",
                                             {"recall.n_train=10000000", "recall.n_test=10000000",
                                              "recall.n_pairs=4096", "recall.n_keys=4096"}),
                       Contains("config key 'recall.n_train': the recall sequences"), UsageError);
}

TEST_CASE("a thread count above the work size: GEMM panels run with fewer threads, same result") {
  const int before = cpu_threads();
  Generator g(3);
  // (100 x 300) (300 x 200): 6M multiply-adds (parallel), split along the
  // 200 columns; (400 x 100) (100 x 40): 1.6M, split along the 400 rows.
  // Either side is shorter than the larger thread counts.
  for (auto [m, k, n] : {std::array<int64_t, 3>{100, 300, 200}, {400, 100, 40}}) {
    const Tensor a = rand_normal({m, k}, 0, 1, DType::Float64, &g);
    const Tensor b = rand_normal({k, n}, 0, 1, DType::Float64, &g);
    set_cpu_threads(1);
    const std::vector<double> one = matmul(a, b).to_vector();
    for (int threads : {3, 64, 1024}) {
      set_cpu_threads(threads);
      CHECK(matmul(a, b).to_vector() == one);
    }
  }
  set_cpu_threads(before);
}

TEST_CASE("load_state_dict checks the whole state before it copies anything") {
  Generator gen(0);
  nn::Linear lin(2, 3, true, DType::Float64, gen);
  const std::vector<double> weight = lin.state_dict().at("weight").to_vector();
  const std::vector<double> bias = lin.state_dict().at("bias").to_vector();
  // "bias" comes before "weight": a state whose bias fits and whose weight
  // does not must not load the bias.
  std::map<std::string, Tensor> bad = {{"bias", full({3}, 7.0, DType::Float64)},
                                       {"weight", zeros({3, 3}, DType::Float64)}};
  CHECK_THROWS_WITH(lin.load_state_dict(bad), doctest::Contains("'weight' has shape [3, 3]"));
  bad = {{"bias", full({3}, 7.0, DType::Float64)}, {"weight", zeros({3, 2}, DType::Float64)}, {"extra", zeros({1})}};
  CHECK_THROWS_WITH(lin.load_state_dict(bad), doctest::Contains("1 unexpected ['extra']"));
  CHECK(lin.state_dict().at("weight").to_vector() == weight);
  CHECK(lin.state_dict().at("bias").to_vector() == bias);
  bad.erase("extra");
  lin.load_state_dict(bad);  // a state that fits loads whole
  CHECK(lin.state_dict().at("bias").to_vector() == std::vector<double>(3, 7.0));
}
