// tests/fuzz/fuzz_cli.cpp: libFuzzer harness for the command line itself:
// argv words and --set values into the option layer (every command's
// table: ranges, choices, lists, positionals) and, for `train`, the config
// resolution and validate_config, up to (not including) the training loop.
// Input layout: argv words separated by NUL bytes; after the first pair of
// NULs, the text any --config FILE reads (no file is opened). The one
// documented error is UsageError (exit code 2); anything else escaping is a
// finding. Two properties are checked on what is accepted:
//   - a resolved config passes validate_config again after a dump/parse
//     round trip (what config.json and checkpoints store);
//   - a config accepted for a small model builds that model and runs it on
//     a dummy batch (train::probe_config_model) without any exception: what
//     validate_config accepts, the model must take.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/json_text.h"
#include "tensor/usage_error.h"
#include "tools/cli/cli.h"
#include "train/config.h"
#include "train/tasks.h"

using namespace seqboat;
using nlohmann::json;

namespace {

// Small enough to build and run in well under a millisecond.
bool small_model(const json& cfg) {
  auto at = [&](const char* k) { return cfg.at(k).get<int64_t>(); };
  const bool recall_small = cfg.at("task") != "recall" || (at("recall.n_keys") + at("recall.n_values") <= 1024);
  return at("model.d_model") <= 32 && at("model.d_qk") <= 32 && at("model.n_layers") <= 2 && at("model.d_ema") <= 8 &&
         at("model.max_positions") <= 4096 && at("model.mem_size") <= 4096 && recall_small;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find(std::string_view("\0\0", 2));
  const std::string_view words = input.substr(0, split);
  const std::string config_text(split == std::string_view::npos ? std::string_view() : input.substr(split + 2));
  std::vector<std::string> args;
  for (size_t at = 0; at <= words.size() && args.size() < 64;) {
    const size_t nul = words.find('\0', at);
    args.emplace_back(words.substr(at, nul == std::string_view::npos ? std::string_view::npos : nul - at));
    if (nul == std::string_view::npos) break;
    at = nul + 1;
  }
  json cfg;
  try {
    cfg = cli::check_command_line(args, [&](const std::string&) { return config_text; });
  } catch (const UsageError&) {
    return 0;  // the documented outcome for a bad command line
  }
  if (!cfg.is_object()) return 0;
  train::validate_config(parse_json_text(cfg.dump(), "round trip"));
  if (small_model(cfg)) train::probe_config_model(cfg);
  return 0;
}
