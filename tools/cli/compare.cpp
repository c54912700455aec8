// tools/cli/compare.cpp: `seqboat compare RUN_DIR... [--out DIR]`: SMA across
// tasks (train/compare.h), one SVG, one HTML page and the numbers as JSON.
#include <fmt/format.h>

#include <filesystem>

#include "cli.h"
#include "tensor/safe_text.h"
#include "train/compare.h"

namespace seqboat::cli {

const CommandSpec& compare_spec() {
  static const CommandSpec s{
      "compare",
      "SMA across tasks: per layer, tokens routed to attention and their span",
      "RUN_DIR...",
      1,
      1000,
      {},
      {text_option("out", "DIR", "where compare.svg, compare.html and compare.json go", "compare")},
      "reads RUN_DIR/routing.json of each finished run (written by `seqboat train`): per task and layer, the share\n"
      "of tokens routed to attention and the mean attention span over the run's test split\n"};
  return s;
}

int cmd_compare(const ParsedArgs& a) {
  std::vector<train::RunRouting> runs;
  for (const std::string& dir : a.positional()) runs.push_back(train::read_run_routing(dir));
  const std::string out = a.text("out", "compare");
  train::write_comparison(runs, out);
  for (const auto& r : runs) {
    std::string line = fmt::format("{} ({}):", safe_text(r.task), safe_text(r.run));
    for (size_t i = 0; i < r.layers.size(); ++i)
      line += fmt::format(" L{} {:.0f}%/{:.1f}", i + 1, 100 * r.layers[i].density, r.layers[i].mean_span);
    fmt::print("{}\n", line);
  }
  fmt::print("wrote {}\n", safe_text((std::filesystem::path(out) / "compare.html").string()));
  return 0;
}

}  // namespace seqboat::cli
