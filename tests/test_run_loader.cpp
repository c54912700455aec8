// tests/test_run_loader.cpp: load_run reopens a tiny trained run: config,
// step, generated data found again, data.dir override, the evaluation the
// trainer reported, and errors naming the checkpoint.
#include "train/run_loader.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "test_util.h"
#include "train/config.h"
#include "train/trainer.h"

using namespace seqboat;
namespace fs = std::filesystem;
using doctest::Contains;
using seqboat::testing::TempDir;

TEST_CASE("load_run rebuilds a trained listops run from its checkpoint") {
  TempDir tmp;
  // data.dir empty: the trainer generates the data into <run>/data.
  const nlohmann::json cfg = train::resolve_config(
      "listops", "",
      {"steps=4", "batch_size=8", "warmup_steps=1", "eval_every=0", "listops.n_train=64", "listops.n_val=16",
       "listops.n_test=16", "model.d_model=8", "model.d_qk=4", "model.d_ema=2", "model.mem_size=4"});
  train::TrainOptions opt;
  opt.out_dir = (tmp.path / "run").string();
  opt.progress_bar = false;
  const train::TrainSummary s = train::run_training(cfg, opt);

  train::LoadedRun r = train::load_run(s.checkpoint, "listops", "");
  CHECK(r.step == 4);
  CHECK(r.run_dir == opt.out_dir);
  CHECK(r.cfg["data.dir"] == (tmp.path / "run" / "data").string());
  CHECK(r.cfg["model.d_model"] == 8);
  const train::EvalResult e = r.task->evaluate("test", 0);
  CHECK(e.examples == 16);
  CHECK(e.loss == doctest::Approx(s.test_loss).epsilon(1e-12));
  CHECK(e.accuracy == doctest::Approx(s.test_accuracy).epsilon(1e-12));

  // Any task accepted when none is named; data.dir can point elsewhere.
  fs::copy(tmp.path / "run" / "data", tmp.path / "copy");
  r = train::load_run(s.checkpoint, "", (tmp.path / "copy").string());
  CHECK(r.cfg["data.dir"] == (tmp.path / "copy").string());
  CHECK(r.task->evaluate("test", 0).loss == doctest::Approx(s.test_loss).epsilon(1e-12));

  CHECK_THROWS_WITH_AS(
      train::load_run(s.checkpoint, "recall", ""),
      Contains(("checkpoint '" + s.checkpoint + "' was trained on task 'listops', not 'recall'").c_str()),
      std::invalid_argument);
  const std::string missing = (tmp.path / "nope.safetensors").string();
  CHECK_THROWS_WITH_AS(train::load_run(missing, "", ""), Contains(missing.c_str()), std::runtime_error);
}
