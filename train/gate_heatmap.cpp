// train/gate_heatmap.cpp: report::gate_heatmap_svg (see report.h): one row
// per layer, one cell per token, coloured by the router's gate where the
// attention unit ran.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "tensor/tensor.h"
#include "train/report.h"
#include "train/svg.h"
#include "train/svg_text.h"

namespace seqboat::report {
namespace {

constexpr const char* kMonoFont = "DejaVu Sans Mono, Menlo, Consolas, monospace";
constexpr const char* kInactiveColour = "#d4d4d4";

std::string hex_colour(double r, double g, double b) {
  auto c = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 255.0))); };
  return fmt::format("#{:02x}{:02x}{:02x}", c(r), c(g), c(b));
}

// Sequential ramp for gate values 0..1 (ColorBrewer YlGnBu, 9 classes).
std::string gate_colour(double g) {
  static constexpr int kStops[9][3] = {{255, 255, 217}, {237, 248, 177}, {199, 233, 180},
                                       {127, 205, 187}, {65, 182, 196},  {29, 145, 192},
                                       {34, 94, 168},   {37, 52, 148},   {8, 29, 88}};
  if (!std::isfinite(g)) g = 0;
  g = std::clamp(g, 0.0, 1.0);
  const double pos = g * 8.0;
  const int k = std::min(7, static_cast<int>(pos));
  const double t = pos - k;
  return hex_colour(kStops[k][0] + t * (kStops[k + 1][0] - kStops[k][0]),
                    kStops[k][1] + t * (kStops[k + 1][1] - kStops[k][1]),
                    kStops[k][2] + t * (kStops[k + 1][2] - kStops[k][2]));
}

std::string percent(double share) {
  if (!std::isfinite(share)) return "n/a";
  return fmt::format("{}%", static_cast<long long>(std::llround(share * 100.0)));
}

}  // namespace

std::string gate_heatmap_svg(const RoutedExample& ex, const std::vector<train::LayerStats>& stats) {
  const int L = static_cast<int>(ex.tokens.size());
  const int n_layers = static_cast<int>(ex.layers.size());
  for (int r = 0; r < n_layers; ++r) {
    const auto& lr = ex.layers[r];
    if (static_cast<int>(lr.gate.size()) != L || static_cast<int>(lr.active.size()) != L)
      fail(
          fmt::format("gate_heatmap_svg: layer {} has {} gates and {} active flags for {} tokens", r, lr.gate.size(),
                      lr.active.size(), L));
  }
  const bool use_stats = !stats.empty() && stats.size() >= ex.layers.size();

  // Cell geometry.
  const int cw = L > 0 ? std::clamp(static_cast<int>(1200 / L), 6, 24) : 24;
  const double ch = 22, row_gap = 5;
  const double tok_font = std::min(12.0, cw - 2.0);
  const bool show_labels = tok_font >= 8.0;
  constexpr int kMaxTokChars = 12;

  // Token label texts; a label that fits its cell is horizontal, any other
  // one is rotated to read upwards.
  std::vector<std::pair<std::string, int>> labels;
  std::vector<bool> horizontal;
  double label_h = 0;
  if (show_labels) {
    for (const auto& t : ex.tokens) {
      labels.push_back(visible_token(t, kMaxTokChars));
      const double w = mono_width(labels.back().second, tok_font);
      horizontal.push_back(w <= cw - 2);
      label_h = std::max(label_h, horizontal.back() ? tok_font : w);
    }
  }

  // Row labels and the per-row counts.
  struct RowText {
    std::string name, density, count;
  };
  std::vector<RowText> rows;
  double row_label_w = 0, count_w = 0;
  for (int r = 0; r < n_layers; ++r) {
    const auto& act = ex.layers[r].active;
    const double d = use_stats ? stats[r].density : train::count_active(act).density();
    RowText rt{fmt::format("layer {}", r), fmt::format("{}density {}", use_stats ? "avg " : "", percent(d)),
               fmt::format("{} / {} active", std::count(act.begin(), act.end(), true), L)};
    row_label_w = std::max(row_label_w, sans_width(rt.name, 12, true) + 8 + sans_width(rt.density, 11));
    count_w = std::max(count_w, sans_width(rt.count, 11));
    rows.push_back(std::move(rt));
  }

  // Title: "<title>   label 3 · predicted 3".
  const std::string title = ex.title.empty() ? std::string("example") : ex.title;
  std::string lp_text;
  if (ex.label >= 0) lp_text += fmt::format("label {}", ex.label);
  if (ex.predicted >= 0) lp_text += fmt::format("{}predicted {}", lp_text.empty() ? "" : "  \u00b7  ", ex.predicted);
  const bool judged = ex.label >= 0 && ex.predicted >= 0;
  const bool correct = judged && ex.label == ex.predicted;
  if (judged) lp_text += correct ? "  (correct)" : "  (wrong)";

  // Layout.
  const double pad = 14;
  const double x0 = std::ceil(pad + std::max(row_label_w, 40.0) + 12);  // heatmap left edge (whole px: no seams)
  const double y0 = 72;                                                 // heatmap top edge
  const double grid_w = static_cast<double>(L) * cw;
  const double grid_h = n_layers > 0 ? n_layers * ch + (n_layers - 1) * row_gap : 0;
  const double y1 = y0 + grid_h;  // heatmap bottom edge
  double below = 0;
  if (L > 0) {
    if (show_labels) below = label_h + 14;
    else below = 44;
  }
  const double legend_w = 360;
  const double title_w = sans_width(title, 15, true) + 24 + sans_width(lp_text, 12);
  const double width =
      std::ceil(std::max({x0 + grid_w + 10 + count_w + pad, pad + legend_w + pad, pad + title_w + pad}));
  const double height = std::ceil(y1 + below + pad);

  Svg svg(width, height);
  auto& b = svg.body;

  // Title and legend.
  b << fmt::format("<text x=\"{}\" y=\"24\" font-size=\"15\" font-weight=\"bold\" fill=\"{}\">{}", num(pad),
                   kTextColour, xml_escape(title));
  if (!lp_text.empty())
    b << fmt::format("<tspan dx=\"18\" font-size=\"12\" font-weight=\"normal\" fill=\"{}\">{}</tspan>",
                     judged ? (correct ? "#1a7f37" : "#c62828") : kMutedColour, xml_escape(lp_text));
  b << "</text>\n";
  {
    const double ly = 40;  // legend top
    b << "<g class=\"legend\">\n";
    b << fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"14\" fill=\"{}\" stroke=\"#999999\" stroke-width=\"0.5\"/>\n",
        num(pad), num(ly), kInactiveColour);
    b << text_el(pad + 20, ly + 11, "inactive", fmt::format("font-size=\"11\" fill=\"{}\"", kTextColour));
    const double gx = pad + 90;
    b << text_el(gx, ly + 11, "active, gate", fmt::format("font-size=\"11\" fill=\"{}\"", kTextColour));
    const double bx = gx + 96, bw = 180;
    b << text_el(bx - 4, ly + 11, "0", fmt::format("font-size=\"11\" text-anchor=\"end\" fill=\"{}\"", kMutedColour));
    constexpr int kSteps = 45;
    for (int k = 0; k < kSteps; ++k) {
      b << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"{}\"/>\n", num(bx + bw * k / kSteps),
                       num(ly), num(bw / kSteps + 0.3), gate_colour((k + 0.5) / kSteps));
    }
    b << fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"none\" stroke=\"#999999\" stroke-width=\"0.5\"/>\n",
        num(bx), num(ly), num(bw));
    b << text_el(bx + bw + 4, ly + 11, "1", fmt::format("font-size=\"11\" fill=\"{}\"", kMutedColour));
    b << "</g>\n";
  }

  // Rows.
  // White cell borders; narrow cells get hairlines between active cells only,
  // so runs of inactive tokens stay a calm grey.
  const bool wide_cells = cw >= 10;
  for (int r = 0; r < n_layers; ++r) {
    const auto& lr = ex.layers[r];
    const double y = y0 + r * (ch + row_gap);
    b << fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"{}\">"
        "<tspan font-weight=\"bold\">{}</tspan><tspan dx=\"8\" font-size=\"11\" fill=\"{}\">{}</tspan></text>\n",
        num(x0 - 10), num(y + ch / 2 + 4), kTextColour, xml_escape(rows[r].name), kMutedColour,
        xml_escape(rows[r].density));
    b << fmt::format("<g class=\"layer\" data-layer=\"{}\" shape-rendering=\"crispEdges\"{}>\n", r,
                     wide_cells ? " stroke=\"#ffffff\" stroke-width=\"1\"" : "");
    for (int t = 0; t < L; ++t) {
      const bool on = lr.active[t];
      const double g = lr.gate[t];
      const std::string fill = on ? gate_colour(g) : std::string(kInactiveColour);
      const std::string tip =
          fmt::format("layer {}, token {} {}: {}, gate {}", r, t, visible_token(ex.tokens[t], 24).first,
                      on ? "active" : "inactive", std::isfinite(g) ? fmt::format("{:.3f}", g) : std::string("n/a"));
      b << fmt::format(
          "<rect class=\"cell\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}><title>{}</title></rect>\n",
          num(x0 + static_cast<double>(t) * cw), num(y), cw, num(ch), fill,
          !wide_cells && on ? " stroke=\"#ffffff\" stroke-width=\"1\"" : "", xml_escape(tip));
    }
    b << "</g>\n";
    if (L > 0)
      b << fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#9a9a9a\" "
          "stroke-width=\"0.75\"/>\n",
          num(x0), num(y), num(grid_w), num(ch));
    b << text_el(x0 + grid_w + 10, y + ch / 2 + 4, xml_escape(rows[r].count),
                 fmt::format("font-size=\"11\" fill=\"{}\"", kMutedColour));
  }

  // Token labels or a position axis.
  if (L > 0 && show_labels) {
    b << fmt::format("<g class=\"tokens\" font-family=\"{}\" font-size=\"{}\" fill=\"{}\">\n", kMonoFont, num(tok_font),
                     kTextColour);
    for (int t = 0; t < L; ++t) {
      const double cx = x0 + (t + 0.5) * cw;
      const std::string txt = xml_escape(labels[t].first);
      if (horizontal[t]) {
        b << fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(cx), num(y1 + 6 + tok_font),
                         txt);
      } else {
        b << fmt::format("<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"end\">{}</text>\n",
                         num(cx + tok_font * 0.36), num(y1 + 6), txt);
      }
    }
    b << "</g>\n";
  } else if (L > 0) {
    int step = 1;
    for (int cand : {1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000}) {
      step = cand;
      if (cand * cw >= 48) break;
    }
    b << fmt::format("<g class=\"positions\" font-size=\"10\" fill=\"{}\" text-anchor=\"middle\">\n", kMutedColour);
    for (int p = 0; p < L; p += step) {
      const double cx = x0 + (p + 0.5) * cw;
      b << fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#888888\" stroke-width=\"1\"/>\n",
                       num(cx), num(y1 + 1), num(y1 + 6));
      b << text_el(cx, y1 + 18, std::to_string(p), "");
    }
    b << text_el(x0, y1 + 36, "token position (too many tokens to label them)",
                 fmt::format("font-size=\"11\" text-anchor=\"start\" fill=\"{}\"", kMutedColour));
    b << "</g>\n";
  }
  return svg.finish();
}

}  // namespace seqboat::report
