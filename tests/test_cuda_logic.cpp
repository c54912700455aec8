// tests/test_cuda_logic.cpp: the CUDA backend's kernels, built with the host
// executor (tests/cuda_on_host.h), through whole models: every golden file in
// float64 and float32, and a short training run (dropout on) whose losses
// must follow the CPU backend's. The op table checks each kernel on its own
// (tests/test_ops.cpp); this checks that they compose.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cuda_on_host.h"
#include "test_util.h"
#include "train/config.h"
#include "train/golden.h"
#include "train/trainer.h"

using namespace seqboat;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> golden_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(SEQBOAT_SOURCE_DIR) / dir))
    if (e.path().extension() == ".safetensors") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

void check_golden_on_host_cuda(const std::string& dir, double tol64) {
  const auto files = golden_files(dir);
  REQUIRE(files.size() > 5);
  for (const std::string& path : files)
    for (DType dt : {DType::Float64, DType::Float32}) {
      const double tol = dt == DType::Float64 ? tol64 : 1e-3;
      train::GoldenCheck c;
      {
        testing::CudaKernelsOnHost swap;
        c = train::check_golden_file(path, dt, Device::CPU, tol);
      }
      std::string failures;
      for (const std::string& f : c.failures) failures += " " + f;
      CHECK_MESSAGE(c.passed(), fs::path(path).stem().string()
                                    << " " << dtype_name(dt) << " worst " << c.worst << ":" << failures);
    }
}

// Per-window training losses of a short recall run.
std::vector<double> recall_losses(const fs::path& out) {
  nlohmann::json cfg =
      train::resolve_config("recall", "",
                            {"steps=60", "lr=0.01", "warmup_steps=2", "log_every=6", "eval_every=0", "batch_size=8",
                             "recall.n_train=256", "recall.n_test=16", "model.d_model=16", "model.d_qk=8",
                             "model.d_ema=2", "model.mem_size=3", "model.dropout=0.1", "threads=1"});
  train::TrainOptions opt;
  opt.out_dir = out.string();
  opt.progress_bar = false;
  train::run_training(cfg, opt);
  std::vector<double> losses;
  std::ifstream in(out / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto e = nlohmann::json::parse(line);
    if (e["event"] == "train") losses.push_back(e["loss"].get<double>());
  }
  return losses;
}

}  // namespace

TEST_CASE("cuda kernels on the host: the official golden files, float64 (1e-9) and float32 (1e-3)") {
  check_golden_on_host_cuda("tests/golden", 1e-9);
}

TEST_CASE("cuda kernels on the host: the extra golden files, float64 (1e-12) and float32 (1e-3)") {
  check_golden_on_host_cuda("tests/golden/extra", 1e-12);
}

TEST_CASE("cuda kernels on the host: training follows the CPU backend (dropout, AdamW, clipping)") {
  testing::TempDir dir;
  const std::vector<double> cpu = recall_losses(dir.path / "cpu");
  std::vector<double> cuda;
  {
    testing::CudaKernelsOnHost swap;
    cuda = recall_losses(dir.path / "cuda");
  }
  REQUIRE(cpu.size() == 10);  // 60 steps, a window every 6
  REQUIRE(cuda.size() == cpu.size());
  // float32 throughout; the kernels sum in other orders, so the runs drift
  // apart slowly but stay within a fraction of a percent over 60 steps.
  for (size_t i = 0; i < cpu.size(); ++i)
    CHECK_MESSAGE(std::fabs(cuda[i] - cpu[i]) <= 2e-3 * std::fabs(cpu[i]),
                  "window " << i << ": cpu " << cpu[i] << " vs cuda kernels " << cuda[i]);
  CHECK(cpu.back() < cpu.front());  // and it learns
}
