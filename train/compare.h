// train/compare.h: SMA compared across tasks (`seqboat compare RUN_DIR...`):
// per run (a task), per layer, the share of real tokens its router sent to
// attention and the mean attention span over the run's test split, as the
// trainer wrote them in <run>/routing.json; drawn side by side in one SVG
// (two panels of bar groups, one row per run) and one HTML page, with the
// numbers as JSON.
#pragma once

#include <string>
#include <vector>

#include "train/routing_stats.h"

namespace seqboat::train {

struct RunRouting {
  std::string run;   // the run directory as given
  std::string task;  // from routing.json
  double test_accuracy = 0;
  bool has_bits_per_byte = false;
  double bits_per_byte = 0;
  int64_t window = 0, examples = 0;
  std::vector<LayerStats> layers;
};

// Reads <run>/routing.json. Throws std::runtime_error naming the file when it
// is missing (the run did not finish), unreadable, or malformed (a field
// missing or of the wrong type, a density outside 0..1, a negative span).
RunRouting read_run_routing(const std::string& run_dir);

// The SVG: a row per run; left panel the share of tokens routed to attention
// per layer (0..100%), right panel the mean attention span per layer (one
// axis for all runs). Every text from a file is XML-escaped.
std::string compare_svg(const std::vector<RunRouting>& runs);
std::string compare_json(const std::vector<RunRouting>& runs);  // {"runs": [...]}
std::string compare_html(const std::vector<RunRouting>& runs, const std::string& svg);

// Writes compare.svg, compare.html and compare.json into out_dir (atomically).
void write_comparison(const std::vector<RunRouting>& runs, const std::string& out_dir);

}  // namespace seqboat::train
