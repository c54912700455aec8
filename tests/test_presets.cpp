// tests/test_presets.cpp: every preset of the official configurations
// resolves (validate_config accepts it), keeps its values under --set of
// other keys, yields to --set of its own, prints its resolved configuration,
// and trains one step of its task from tiny released files with its own
// norm, positions, attention function, classifier and optimizer (sizes
// overridden to tiny ones; the real sizes are measured by bench, not here).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "data/png_gray.h"
#include "release_fixtures.h"
#include "train/presets.h"
#include "train/trainer.h"

using namespace seqboat;
using nlohmann::json;
using seqboat::testing::TempDir;
namespace fs = std::filesystem;

TEST_CASE("presets resolve, yield to --set and print their configuration") {
  CHECK(train::presets().size() == 8);
  for (const train::Preset& p : train::presets()) {
    INFO(p.name);
    const json cfg = train::resolve_preset_config(p.name, "", {});
    CHECK(cfg["task"] == p.task);
    for (auto it = p.values.begin(); it != p.values.end(); ++it) CHECK(cfg[it.key()] == it.value());
    CHECK_FALSE(p.deviations.empty());
    const json over = train::resolve_preset_config(p.name, "", {"steps=7", "warmup_steps=2"});
    CHECK(over["steps"] == 7);
    const std::string help = train::preset_help(p.name, over);
    CHECK(help.find("(preset: ") != std::string::npos);
    CHECK(help.find("deviations") != std::string::npos);
  }
  const json img = train::resolve_preset_config("lra-image", "", {});
  CHECK(img["model.n_layers"] == 8);
  CHECK(img["model.d_model"] == 160);
  CHECK(img["model.attention_activation"] == "relu2");
  CHECK(train::resolve_preset_config("enwik8", "", {})["optimizer"] == "radam");
  CHECK_THROWS_WITH_AS(train::resolve_preset_config("lra-chess", "", {}), doctest::Contains("valid presets: lra-listops"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_preset_config("sc10", "", {"model.d_model=61"}),
                       doctest::Contains("even model.d_model"), std::invalid_argument);
}

TEST_CASE("every preset trains one step of its task with tiny sizes from tiny released files") {
  TempDir data, out;
  seqboat::testing::write_imdb(data.path / "imdb");
  seqboat::testing::write_aan(data.path / "aan");
  seqboat::testing::write_cifar(data.path / "cifar", 2);
  seqboat::testing::write_speech(data.path / "speech", 7);
  seqboat::testing::write_enwik8(data.path / "enwik8", 20000);
  const bool png = data::png_available();
  if (png) seqboat::testing::write_pathfinder(data.path / "pf", 20, 6);
  const std::map<std::string, std::string> dirs = {{"lra-listops", ""},         {"lra-text", "imdb"},
                                                   {"lra-retrieval", "aan"},   {"lra-image", "cifar"},
                                                   {"lra-pathfinder", "pf"},   {"lra-pathx", "pf"},
                                                   {"sc10", "speech"},         {"enwik8", "enwik8"}};
  for (const train::Preset& p : train::presets()) {
    INFO(p.name);
    if (!png && p.task == "pathfinder") continue;
    std::vector<std::string> sets = {"steps=2",          "warmup_steps=1",  "batch_size=2",     "eval_every=0",
                                     "model.n_layers=1", "model.d_model=8", "model.d_qk=4",     "model.mem_size=4",
                                     "model.d_ema=2",    "threads=1",       "lm.seq_len=32",    "listops.n_train=8",
                                     "listops.n_val=2",  "listops.n_test=2", "listops.distribution=short",
                                     "speech.norm_clips=2", "enwik8.split=proportional", "lm.eval_windows=4"};
    if (!dirs.at(p.name).empty()) sets.push_back("data.dir=" + (data.path / dirs.at(p.name)).string());
    if (p.values.contains("model.classifier_hidden")) sets.push_back("model.classifier_hidden=6");
    train::TrainOptions opt;
    opt.out_dir = (out.path / p.name).string();
    opt.progress_bar = false;
    const train::TrainSummary s = train::run_training(train::resolve_preset_config(p.name, "", sets), opt);
    CHECK(s.steps == 2);
    CHECK(fs::exists(out.path / p.name / "routing.json"));
  }
}
