// tools/cli/compare.cpp: `seqboat compare RUN_DIR... [--out DIR]`: SMA across
// tasks (train/compare.h), one SVG, one HTML page and the numbers as JSON.
#include <fmt/format.h>

#include <filesystem>

#include "cli.h"
#include "train/compare.h"

namespace seqboat::cli {

int cmd_compare(const std::vector<std::string>& argv) {
  Args a(argv, {"out"}, {"help"});
  if (a.has("help") || a.positional().empty()) {
    fmt::print(
        "usage: seqboat compare RUN_DIR... [--out DIR]\n"
        "  reads RUN_DIR/routing.json of each finished run (written by `seqboat train`) and writes\n"
        "  DIR/compare.svg, compare.html and compare.json (default DIR: compare): per task and layer, the share of\n"
        "  tokens routed to attention and the mean attention span over the run's test split\n");
    return a.has("help") ? 0 : 2;
  }
  std::vector<train::RunRouting> runs;
  for (const std::string& dir : a.positional()) runs.push_back(train::read_run_routing(dir));
  const std::string out = a.get("out", "compare");
  train::write_comparison(runs, out);
  for (const auto& r : runs) {
    std::string line = fmt::format("{} ({}):", r.task, r.run);
    for (size_t i = 0; i < r.layers.size(); ++i)
      line += fmt::format(" L{} {:.0f}%/{:.1f}", i + 1, 100 * r.layers[i].density, r.layers[i].mean_span);
    fmt::print("{}\n", line);
  }
  fmt::print("wrote {}\n", (std::filesystem::path(out) / "compare.html").string());
  return 0;
}

}  // namespace seqboat::cli
