// tools/cli/parity.cpp: `seqboat parity [--dtype float64|float32] [--device cpu|cuda] [--tol T] FILE...`
//
// For each golden file, train::check_golden_file (train/golden.h). Prints
// `PASS name worst=...` or `FAIL name worst=...` plus the tensors that
// differ; exit 0 iff all pass.
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "ops/backend.h"
#include "tensor/safe_text.h"
#include "train/golden.h"

namespace seqboat::cli {

const CommandSpec& parity_spec() {
  static const CommandSpec s{
      "parity",
      "check the modules against golden safetensors files",
      "FILE.safetensors...",
      1,
      SIZE_MAX,
      {},
      {choice_option("dtype", {"float64", "float32"}, "float64", "the dtype the modules run in"), device_option_spec(),
       [] {
         OptionSpec o = number_option("tol", 0, 1e6, 0, "the largest relative error that passes");
         o.default_text = "1e-9 for float64, 1e-3 for float32";
         return o;
       }()},
      ""};
  return s;
}

int cmd_parity(const ParsedArgs& a) {
  const DType dt = a.text("dtype", "float64") == "float32" ? DType::Float32 : DType::Float64;
  const Device device = device_option(a);
  if (!device_available(device)) return device_error("parity", device);
  const double tol = a.has("tol") ? a.number("tol", 0) : dt == DType::Float64 ? 1e-9 : 1e-3;
  const std::vector<std::string>& files = a.positional();
  int failed = 0;
  for (const std::string& path : files) {
    const std::string name = safe_text(std::filesystem::path(path).stem().string());
    train::GoldenCheck check;
    try {
      check = train::check_golden_file(path, dt, device, tol);
    } catch (const std::exception& e) {  // a bad file fails its check; the others still run
      fmt::print("FAIL {} error: {}\n", name, safe_message(error_text(e)));
      ++failed;
      continue;
    }
    if (check.passed()) {
      fmt::print("PASS {} worst={:.3e}\n", name, check.worst);
    } else {
      ++failed;
      fmt::print("FAIL {} worst={:.3e}\n", name, check.worst);
      for (const std::string& b : check.failures) fmt::print("    {}\n", safe_message(b));
    }
  }
  fmt::print("{} passed, {} failed\n", files.size() - failed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace seqboat::cli
