// Training reports: SVG heatmaps of which tokens each SeqBoat layer's router
// activated (Sparse Modular Activation), an SVG loss curve of the trainer's
// metrics.jsonl (read with train/metrics.h), and an HTML page tying them
// together. Plain std types in, strings/files out: nothing here depends on the
// tensor library. Implemented in gate_heatmap.cpp, loss_curve.cpp,
// report_page.cpp and svg_text.cpp (xml_escape), over the SVG primitives of
// svg.h / svg_text.h.
#pragma once

#include <string>
#include <vector>

#include "train/metrics.h"
#include "train/routing_stats.h"

namespace seqboat::report {

// One layer's routing decision for one example, per token (same length as the
// example's tokens): `gate` is the router's gate (P1 when active, normally 0
// when not) and `active` whether the attention unit ran on the token.
struct LayerRoute {
  std::vector<double> gate;
  std::vector<bool> active;
};

// One example to draw: its tokens as text (padding already stripped), one
// LayerRoute per layer, and the label / prediction (-1 = unknown, not shown).
struct RoutedExample {
  std::string title;
  std::vector<std::string> tokens;
  std::vector<LayerRoute> layers;
  int label = -1;
  int predicted = -1;
};

// An SVG heatmap of one example: one row per layer, one column per token.
// Inactive tokens are light grey; active tokens are coloured by their gate on
// a sequential ramp from light yellow (gate 0) to dark blue (gate 1). Each row
// is labelled "layer i  avg density d%" (d = stats[i].density) when stats has
// an entry for every layer, else "layer i  density d%" (this example's own
// density), and ends with this example's "k / L active" count. Token labels go underneath (rotated 90
// degrees unless every token fits its cell horizontally; control characters,
// spaces and invalid UTF-8 are shown as escapes); for long sequences
// (cell width = clamp(1200 / L, 6, 24) px) cells too narrow for text get a
// position axis instead. Every cell carries a <title> tooltip. Includes a
// title with label/prediction and a colour legend. The SVG is well-formed XML
// whatever bytes the tokens and title hold.
// Throws std::invalid_argument if a layer's gate/active length differs from
// the number of tokens.
std::string gate_heatmap_svg(const RoutedExample& ex, const std::vector<train::LayerStats>& stats);

// An SVG line chart: train loss (raw, plus an exponential moving average when
// there are many points), validation loss (line with markers) on the left
// axis, validation accuracy on a right axis fixed at 0..1 (only if present),
// axis ticks and labels, and a legend. Empty series give a "no data" chart.
std::string loss_curve_svg(const train::MetricsSeries& m);

// Writes into out_dir (created if needed):
//   example_<i>.svg   gate_heatmap_svg(examples[i], stats)
//   loss_curve.svg    loss_curve_svg(metrics)
//   stats.json        {"title":..,"layers":[{"layer":i,"density":..,"mean_span":..},..]}
//   report.html       self-contained page: the summary (summary_html is inserted
//                     verbatim), a per-layer stats table, the loss curve and the
//                     example heatmaps as inline SVG, each linked to its file.
// Each file is written atomically (write_file_atomic: temporary file in
// out_dir, fsync, rename).
// Throws std::runtime_error naming the path on an I/O failure.
void write_report(const std::string& out_dir, const std::string& title, const std::vector<RoutedExample>& examples,
                  const std::vector<train::LayerStats>& stats, const train::MetricsSeries& metrics,
                  const std::string& summary_html);

// XML/HTML text escaping (& < > " '). Bytes that are not valid UTF-8 and
// control characters XML 1.0 forbids become U+FFFD, so the result is always
// safe inside an XML document.
std::string xml_escape(const std::string& text);

}  // namespace seqboat::report
