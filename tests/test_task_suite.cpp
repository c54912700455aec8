// tests/test_task_suite.cpp: every task of the paper's suite trains a few
// steps of a tiny model from tiny files in its released layout, evaluates on
// its test split and writes routing.json; a malformed release of each format
// stops the run before it writes anything, with an error naming the file.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "data/png_gray.h"
#include "release_fixtures.h"
#include "train/config.h"
#include "train/trainer.h"

using namespace seqboat;
using nlohmann::json;
using seqboat::testing::TempDir;
using seqboat::testing::write_all;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> tiny(const std::string& data_dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> s = {"steps=3",        "batch_size=2",     "warmup_steps=1",   "log_every=1",
                                "eval_every=2",   "eval_batches=1",   "model.d_model=8",  "model.d_qk=4",
                                "model.n_layers=2", "model.mem_size=4", "model.d_ema=2", "threads=1",
                                "data.dir=" + data_dir};
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

json run(const std::string& task, const std::vector<std::string>& sets, const fs::path& out) {
  train::TrainOptions opt;
  opt.out_dir = out.string();
  opt.progress_bar = false;
  const train::TrainSummary s = train::run_training(train::resolve_config(task, "", sets), opt);
  CHECK(s.steps == 3);
  CHECK(std::isfinite(s.test_loss));
  const json routing = json::parse(seqboat::testing::read_all(out / "routing.json"));
  CHECK(routing["task"] == task);
  REQUIRE(routing["layers"].size() == 2);
  for (const json& l : routing["layers"]) {
    CHECK(l["density"].get<double>() >= 0);
    CHECK(l["density"].get<double>() <= 1);
  }
  return routing;
}

// The run must fail before it writes anything, naming `needle`.
void fails(const std::string& task, const std::vector<std::string>& sets, const fs::path& out, const std::string& needle) {
  train::TrainOptions opt;
  opt.out_dir = out.string();
  opt.progress_bar = false;
  CHECK_THROWS_WITH_AS(train::run_training(train::resolve_config(task, "", sets), opt), doctest::Contains(needle.c_str()),
                       std::runtime_error);
  CHECK_FALSE(fs::exists(out / "config.json"));
}

}  // namespace

TEST_CASE("text: aclImdb as released, bytes cut at text.max_length") {
  TempDir data, out;
  seqboat::testing::write_imdb(data.path);
  const json r = run("text", tiny(data.path.string(), {"text.max_length=40"}), out.path / "run");
  CHECK(r["examples"] == 16);
  write_all(data.path / "aclImdb" / "test" / "neg" / "3_9.txt", "rated 9 in neg/");
  fails("text", tiny(data.path.string()), out.path / "bad", "3_9.txt");
}

TEST_CASE("retrieval: AAN pairs through one encoder and the pair classifier") {
  TempDir data, out;
  seqboat::testing::write_aan(data.path);
  const json r = run("retrieval", tiny(data.path.string(), {"model.classifier_hidden=8"}), out.path / "run");
  CHECK(r["examples"] == 16);
  write_all(data.path / "tsv_data" / "new_aan_pairs.eval.tsv", "1\tP\tQ\tmissing a field\n");
  fails("retrieval", tiny(data.path.string()), out.path / "bad", "new_aan_pairs.eval.tsv: line 1");
}

TEST_CASE("image: CIFAR-10 binary batches as normalised gray pixels, with positions") {
  TempDir data, out;
  seqboat::testing::write_cifar(data.path, 2);
  const json r = run("image", tiny(data.path.string(), {"model.positions=sinusoidal", "model.norm_type=batchnorm",
                                                         "image.pixel_mean=0.48", "image.pixel_std=0.24"}),
                     out.path / "run");
  CHECK(r["examples"] == 4);
  write_all(data.path / "cifar-10-batches-bin" / "data_batch_2.bin", seqboat::testing::cifar_records(2, 0) + "x");
  fails("image", tiny(data.path.string()), out.path / "bad", "data_batch_2.bin: 6147 bytes");
}

TEST_CASE("pathfinder: PNGs and metadata, sequence length from the image size, bad images skipped and counted") {
  TempDir data, out;
  if (!data::png_available()) {
    fails("pathfinder", tiny(data.path.string()), out.path / "run", "libpng");
    return;
  }
  seqboat::testing::write_pathfinder(data.path, 20, 6);
  // An image that is not a PNG is skipped (and counted) when a batch reaches it.
  write_all(data.path / "curv_contour_length_14" / "imgs" / "0" / "sample_3.png", "garbage");
  const json r = run("pathfinder", tiny(data.path.string(), {"model.norm_type=scalenorm"}), out.path / "run");
  CHECK(r["examples"] == 2);  // floor(20 / 10)
  write_all(data.path / "curv_contour_length_14" / "metadata" / "1.npy", "imgs/0 sample_0.png 0 7\n");
  fails("pathfinder", tiny(data.path.string()), out.path / "bad", "1.npy: line 1: label '7'");
}

TEST_CASE("speech: SC10 WAVs, short clips dropped or padded, both split rules") {
  TempDir data, out;
  seqboat::testing::write_speech(data.path, 7);
  const json r = run("speech", tiny(data.path.string(), {"model.positions=sinusoidal", "speech.norm_clips=4"}),
                     out.path / "run");
  CHECK(r["examples"] == 20);  // per class: 7 clips -> floor(4.9) = 4 train, floor(1.05) = 1 val, 2 test
  run("speech", tiny(data.path.string(), {"speech.split=lists", "speech.short_clips=pad"}), out.path / "lists");
  std::string wav = data::write_wav_mono16(std::vector<int16_t>(16000, 5), 16000);
  wav[22] = 2;  // two channels, with a block align for one
  write_all(data.path / "speech_commands_v0.02" / "go" / "0badf00d_nohash_0.wav", wav);
  fails("speech", tiny(data.path.string()), out.path / "bad", "0badf00d_nohash_0.wav: block align");
}

TEST_CASE("enwik8: a small file with the proportional split, bits per byte; the standard split names the size") {
  TempDir data, out;
  seqboat::testing::write_enwik8(data.path, 30000);
  const json r = run("enwik8",
                     tiny(data.path.string(), {"enwik8.split=proportional", "lm.seq_len=32", "lm.eval_windows=0",
                                               "optimizer=radam", "model.rel_pos_bias=rotary"}),
                     out.path / "run");
  CHECK(r["bits_per_byte"].get<double>() > 0);
  CHECK(r["examples"] == 1499);  // every test byte after the first is predicted once
  fails("enwik8", tiny(data.path.string()), out.path / "bad", "30000 bytes");
}

TEST_CASE("listops: LRA's distribution as a named generator setting") {
  TempDir out;
  train::TrainOptions opt;
  opt.out_dir = (out.path / "run").string();
  opt.progress_bar = false;
  std::vector<std::string> sets = tiny("", {"listops.distribution=lra", "listops.n_train=4", "listops.n_val=2",
                                            "listops.n_test=2"});
  sets.pop_back();  // no data.dir: generate
  train::run_training(train::resolve_config("listops", "", sets), opt);
  const json stamp = json::parse(seqboat::testing::read_all(out.path / "run" / "data" / "generator.json"));
  CHECK(stamp["listops.max_depth"] == 10);
  CHECK(stamp["listops.min_length"] == 500);
  const std::string tsv = seqboat::testing::read_all(out.path / "run" / "data" / "basic_test.tsv");
  CHECK(tsv.size() > 2 * 500);  // two expressions longer than 500 tokens
}
