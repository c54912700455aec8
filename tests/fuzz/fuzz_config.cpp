// tests/fuzz/fuzz_config.cpp: libFuzzer harness for run configurations: a
// --config JSON file and --set overrides (train::resolve_config_text), and
// the validator on arbitrary JSON (train::validate_config). Input layout:
// byte 0 picks the task, then the file's text up to the first NUL (empty: no
// file), then one --set override per line. The documented error is
// std::invalid_argument; anything else escaping is a finding. A config that
// resolves must pass validate_config again and survive a dump/parse cycle.
#include <cstdint>
#include <stdexcept>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/json_text.h"
#include "train/config.h"

using namespace seqboat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char* tasks[] = {"listops", "lm", "recall"};
  const std::string task = tasks[data[0] % 3];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = rest.find('\0');
  const std::string file(rest.substr(0, nul));
  std::vector<std::string> sets;
  if (nul != std::string_view::npos) {
    std::string_view lines = rest.substr(nul + 1);
    while (!lines.empty()) {
      const size_t nl = lines.find('\n');
      sets.emplace_back(lines.substr(0, nl));
      lines = nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
    }
  }
  try {
    const nlohmann::json cfg = train::resolve_config_text(task, file, file.empty() ? "" : "fuzz.json", sets);
    train::validate_config(parse_json_text(cfg.dump(), "round trip"));
  } catch (const std::invalid_argument&) {
  }
  try {
    (void)train::parse_run_config(std::string(rest), "fuzz");
  } catch (const std::runtime_error&) {
  }
  return 0;
}
