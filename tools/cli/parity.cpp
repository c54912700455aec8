// tools/cli/parity.cpp: `seqboat parity [--dtype float64|float32] [--device cpu|cuda] [--tol T] FILE...`
//
// For each golden file, train::check_golden_file (train/golden.h). Prints
// `PASS name worst=...` or `FAIL name worst=...` plus the tensors that
// differ; exit 0 iff all pass.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "ops/backend.h"
#include "train/golden.h"

namespace seqboat::cli {

int cmd_parity(const std::vector<std::string>& args) {
  DType dt = DType::Float64;
  Device device = Device::CPU;
  double tol = -1;
  std::vector<std::string> files;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--dtype" && i + 1 < args.size()) {
      std::string v = args[++i];
      if (v == "float64") dt = DType::Float64;
      else if (v == "float32") dt = DType::Float32;
      else return usage_error(fmt::format("--dtype must be float64 or float32, got '{}'", v));
    } else if (a == "--device" && i + 1 < args.size()) {
      device = parse_device(args[++i]);
    } else if (a == "--tol" && i + 1 < args.size()) {
      tol = parse_number_option("tol", args[++i], 0, 1e300);
    } else if (a == "-h" || a == "--help") {
      fmt::print("usage: seqboat parity [--dtype float64|float32] [--device cpu|cuda] [--tol T] FILE.safetensors...\n");
      return 0;
    } else if (a.rfind("--", 0) == 0) {
      return usage_error(fmt::format("parity: unknown option '{}'", a));
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) return usage_error("parity: no golden files given");
  if (!device_available(device)) return device_error("parity", device);
  if (tol < 0) tol = dt == DType::Float64 ? 1e-9 : 1e-3;
  int failed = 0;
  for (const std::string& path : files) {
    std::string name = std::filesystem::path(path).stem().string();
    train::GoldenCheck check;
    try {
      check = train::check_golden_file(path, dt, device, tol);
    } catch (const std::exception& e) {
      fmt::print("FAIL {} error: {}\n", name, e.what());
      ++failed;
      continue;
    }
    if (check.passed()) {
      fmt::print("PASS {} worst={:.3e}\n", name, check.worst);
    } else {
      ++failed;
      fmt::print("FAIL {} worst={:.3e}\n", name, check.worst);
      for (const std::string& b : check.failures) fmt::print("    {}\n", b);
    }
  }
  fmt::print("{} passed, {} failed\n", files.size() - failed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace seqboat::cli
