// Training reports: router gate heatmaps, loss curves (SVG), stats.json and
// an HTML page (see report.h). Hand-written SVG; no dependency on tensors.
#include "train/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/atomic_file.h"

namespace seqboat::report {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSansFont = "DejaVu Sans, Helvetica, Arial, sans-serif";
constexpr const char* kMonoFont = "DejaVu Sans Mono, Menlo, Consolas, monospace";
constexpr const char* kInactiveColour = "#d4d4d4";
constexpr const char* kTextColour = "#222222";
constexpr const char* kMutedColour = "#666666";

// ---- UTF-8 ----

// Decodes the code point at s[i] and advances i; returns -1 (advancing one
// byte) for a byte that does not start a valid, shortest-form sequence.
int32_t next_code_point(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  int32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++i;
    return -1;
  }
  if (i + len > s.size()) {
    ++i;
    return -1;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  const int32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
  if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return -1;
  }
  i += len;
  return cp;
}

bool xml_allowed(int32_t cp) {
  if (cp < 0) return false;
  if (cp < 0x20) return cp == 0x09 || cp == 0x0A || cp == 0x0D;
  return cp != 0xFFFE && cp != 0xFFFF;
}

int count_code_points(std::string_view s) {
  int n = 0;
  size_t i = 0;
  while (i < s.size()) {
    next_code_point(s, i);
    ++n;
  }
  return n;
}

// A token as visible text: spaces/control characters/invalid bytes become
// escapes, long tokens are cut to max_chars code points ending in an ellipsis.
// Returns the text (not yet XML-escaped) and its length in code points.
std::pair<std::string, int> visible_token(const std::string& tok, int max_chars) {
  if (tok.empty()) return {"\u2205", 1};  // empty set sign
  std::vector<std::string> pieces;
  size_t i = 0;
  while (i < tok.size()) {
    const size_t start = i;
    const int32_t cp = next_code_point(tok, i);
    if (cp == ' ') {
      pieces.emplace_back("\u2423");  // open box
    } else if (cp == '\n') {
      pieces.emplace_back("\\n");
    } else if (cp == '\t') {
      pieces.emplace_back("\\t");
    } else if (cp == '\r') {
      pieces.emplace_back("\\r");
    } else if (cp < 0 || cp < 0x20 || cp == 0x7F || !xml_allowed(cp)) {
      pieces.push_back(fmt::format("\\x{:02X}", static_cast<unsigned char>(tok[start])));
    } else {
      pieces.push_back(tok.substr(start, i - start));
    }
  }
  // Count in display characters: an escape like "\x80" is 4 characters.
  int total = 0;
  for (const auto& p : pieces) total += count_code_points(p);
  const int budget = total <= max_chars ? max_chars : max_chars - 1;  // room for the ellipsis
  std::string out;
  int chars = 0;
  for (const auto& p : pieces) {
    const int w = count_code_points(p);
    if (chars + w > budget) break;
    out += p;
    chars += w;
  }
  if (total > max_chars) {
    out += "\u2026";
    ++chars;
  }
  return {out, chars};
}

// ---- formatting helpers ----

std::string num(double v) {
  if (!std::isfinite(v)) return "0";
  const double r = std::round(v * 100.0) / 100.0;
  std::string s = fmt::format("{:.2f}", r);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

// Rough text widths (px) for layout: proportional and monospace fonts.
double sans_width(std::string_view s, double size, bool bold = false) {
  return count_code_points(s) * size * (bold ? 0.64 : 0.58);
}
double mono_width(int chars, double size) { return chars * size * 0.61; }

std::string hex_colour(double r, double g, double b) {
  auto c = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 255.0))); };
  return fmt::format("#{:02x}{:02x}{:02x}", c(r), c(g), c(b));
}

// Sequential ramp for gate values 0..1 (ColorBrewer YlGnBu, 9 classes).
std::string gate_colour(double g) {
  static constexpr int kStops[9][3] = {{255, 255, 217}, {237, 248, 177}, {199, 233, 180}, {127, 205, 187}, {65, 182, 196},
                                       {29, 145, 192},  {34, 94, 168},   {37, 52, 148},   {8, 29, 88}};
  if (!std::isfinite(g)) g = 0;
  g = std::clamp(g, 0.0, 1.0);
  const double pos = g * 8.0;
  const int k = std::min(7, static_cast<int>(pos));
  const double t = pos - k;
  return hex_colour(kStops[k][0] + t * (kStops[k + 1][0] - kStops[k][0]), kStops[k][1] + t * (kStops[k + 1][1] - kStops[k][1]),
                    kStops[k][2] + t * (kStops[k + 1][2] - kStops[k][2]));
}

std::string percent(double share) {
  if (!std::isfinite(share)) return "n/a";
  return fmt::format("{}%", static_cast<long long>(std::llround(share * 100.0)));
}

// ---- axis ticks ----

// A "nice" tick step (1, 2, 2.5 or 5 times a power of ten) giving about
// `target` intervals over `range`.
double nice_step(double range, int target) {
  if (!(range > 0) || !std::isfinite(range)) return 1;
  const double raw = range / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  double nf = 10;
  if (f <= 1) nf = 1;
  else if (f <= 2) nf = 2;
  else if (f <= 2.5) nf = 2.5;
  else if (f <= 5) nf = 5;
  return nf * mag;
}

struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  std::vector<double> ticks() const {
    std::vector<double> t;
    for (int k = 0;; ++k) {
      const double v = lo + k * step;
      if (v > hi + step * 1e-6) break;
      t.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
      if (k > 1000) break;
    }
    return t;
  }
};

// Extends [lo, hi] to multiples of a nice step.
Axis nice_axis(double lo, double hi, int target, double min_step = 0) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    const double pad = std::abs(hi) > 0 ? std::abs(hi) * 0.1 : 1.0;
    lo -= pad;
    hi += pad;
  }
  Axis a;
  a.step = std::max(nice_step(hi - lo, target), min_step);
  a.lo = std::floor(lo / a.step + 1e-9) * a.step;
  a.hi = std::ceil(hi / a.step - 1e-9) * a.step;
  return a;
}

std::string tick_label(double v, double step) {
  if (std::abs(v) >= 1e6 || (std::abs(v) > 0 && std::abs(v) < 1e-4)) return fmt::format("{:g}", v);
  int decimals = 0;
  while (decimals < 6) {
    const double scaled = step * std::pow(10.0, decimals);
    if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) break;
    ++decimals;
  }
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.starts_with("-") && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

// ---- SVG building ----

class Svg {
 public:
  Svg(double width, double height) : width_(width), height_(height) {}
  std::ostringstream body;
  std::string finish() const {
    std::string out = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"{2}\">\n"
        "<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"#ffffff\"/>\n",
        num(width_), num(height_), kSansFont);
    out += body.str();
    out += "</svg>\n";
    return out;
  }

 private:
  double width_, height_;
};

std::string text_el(double x, double y, const std::string& escaped_content, const std::string& attrs) {
  return fmt::format("<text x=\"{}\" y=\"{}\" {}>{}</text>\n", num(x), num(y), attrs, escaped_content);
}

// Splits a series into runs of finite points (a NaN breaks the line).
std::vector<std::vector<std::pair<double, double>>> finite_runs(const std::vector<std::pair<double, double>>& pts) {
  std::vector<std::vector<std::pair<double, double>>> runs(1);
  for (const auto& [x, y] : pts) {
    if (std::isfinite(x) && std::isfinite(y)) {
      runs.back().emplace_back(x, y);
    } else if (!runs.back().empty()) {
      runs.emplace_back();
    }
  }
  if (runs.back().empty()) runs.pop_back();
  return runs;
}

// Drops a leading XML declaration so an SVG document can be inlined in HTML.
std::string inline_svg(const std::string& svg) {
  if (svg.starts_with("<?xml")) {
    const auto end = svg.find("?>");
    if (end != std::string::npos) return svg.substr(svg.find_first_not_of(" \r\n", end + 2));
  }
  return svg;
}

}  // namespace

// ============================================================================

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const int32_t cp = next_code_point(text, i);
    switch (cp) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (xml_allowed(cp)) out.append(text, start, i - start);
        else out += "\uFFFD";
    }
  }
  return out;
}

// ---- gate heatmap ----

std::string gate_heatmap_svg(const RoutedExample& ex, const std::vector<train::LayerStats>& stats) {
  const int L = static_cast<int>(ex.tokens.size());
  const int n_layers = static_cast<int>(ex.layers.size());
  for (int r = 0; r < n_layers; ++r) {
    const auto& lr = ex.layers[r];
    if (static_cast<int>(lr.gate.size()) != L || static_cast<int>(lr.active.size()) != L)
      throw std::invalid_argument(fmt::format("gate_heatmap_svg: layer {} has {} gates and {} active flags for {} tokens", r,
                                              lr.gate.size(), lr.active.size(), L));
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
  const double y0 = 72;                                      // heatmap top edge
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
  const double width = std::ceil(std::max({x0 + grid_w + 10 + count_w + pad, pad + legend_w + pad, pad + title_w + pad}));
  const double height = std::ceil(y1 + below + pad);

  Svg svg(width, height);
  auto& b = svg.body;

  // Title and legend.
  b << fmt::format("<text x=\"{}\" y=\"24\" font-size=\"15\" font-weight=\"bold\" fill=\"{}\">{}", num(pad), kTextColour,
                   xml_escape(title));
  if (!lp_text.empty())
    b << fmt::format("<tspan dx=\"18\" font-size=\"12\" font-weight=\"normal\" fill=\"{}\">{}</tspan>",
                     judged ? (correct ? "#1a7f37" : "#c62828") : kMutedColour, xml_escape(lp_text));
  b << "</text>\n";
  {
    const double ly = 40;  // legend top
    b << "<g class=\"legend\">\n";
    b << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"14\" fill=\"{}\" stroke=\"#999999\" stroke-width=\"0.5\"/>\n",
                     num(pad), num(ly), kInactiveColour);
    b << text_el(pad + 20, ly + 11, "inactive", fmt::format("font-size=\"11\" fill=\"{}\"", kTextColour));
    const double gx = pad + 90;
    b << text_el(gx, ly + 11, "active, gate", fmt::format("font-size=\"11\" fill=\"{}\"", kTextColour));
    const double bx = gx + 96, bw = 180;
    b << text_el(bx - 4, ly + 11, "0", fmt::format("font-size=\"11\" text-anchor=\"end\" fill=\"{}\"", kMutedColour));
    constexpr int kSteps = 45;
    for (int k = 0; k < kSteps; ++k) {
      b << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"{}\"/>\n", num(bx + bw * k / kSteps), num(ly),
                       num(bw / kSteps + 0.3), gate_colour((k + 0.5) / kSteps));
    }
    b << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"none\" stroke=\"#999999\" stroke-width=\"0.5\"/>\n",
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
    b << fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"{}\">"
                     "<tspan font-weight=\"bold\">{}</tspan><tspan dx=\"8\" font-size=\"11\" fill=\"{}\">{}</tspan></text>\n",
                     num(x0 - 10), num(y + ch / 2 + 4), kTextColour, xml_escape(rows[r].name), kMutedColour,
                     xml_escape(rows[r].density));
    b << fmt::format("<g class=\"layer\" data-layer=\"{}\" shape-rendering=\"crispEdges\"{}>\n", r,
                     wide_cells ? " stroke=\"#ffffff\" stroke-width=\"1\"" : "");
    for (int t = 0; t < L; ++t) {
      const bool on = lr.active[t];
      const double g = lr.gate[t];
      const std::string fill = on ? gate_colour(g) : std::string(kInactiveColour);
      const std::string tip = fmt::format("layer {}, token {} {}: {}, gate {}", r, t,
                                          visible_token(ex.tokens[t], 24).first, on ? "active" : "inactive",
                                          std::isfinite(g) ? fmt::format("{:.3f}", g) : std::string("n/a"));
      b << fmt::format("<rect class=\"cell\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}><title>{}</title></rect>\n",
                       num(x0 + static_cast<double>(t) * cw), num(y), cw, num(ch), fill,
                       !wide_cells && on ? " stroke=\"#ffffff\" stroke-width=\"1\"" : "", xml_escape(tip));
    }
    b << "</g>\n";
    if (L > 0)
      b << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#9a9a9a\" stroke-width=\"0.75\"/>\n",
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
        b << fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(cx), num(y1 + 6 + tok_font), txt);
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
      b << fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#888888\" stroke-width=\"1\"/>\n", num(cx),
                       num(y1 + 1), num(y1 + 6));
      b << text_el(cx, y1 + 18, std::to_string(p), "");
    }
    b << text_el(x0, y1 + 36, "token position (too many tokens to label them)",
                 fmt::format("font-size=\"11\" text-anchor=\"start\" fill=\"{}\"", kMutedColour));
    b << "</g>\n";
  }
  return svg.finish();
}

std::string loss_curve_svg(const train::MetricsSeries& m) {
  const double W = 820, H = 460;
  const bool has_acc = !finite_runs(m.val_accuracy).empty();
  const double left = 78, right = W - (has_acc ? 78 : 28), top = 76, bottom = H - 58;
  Svg svg(W, H);
  auto& b = svg.body;
  b << text_el(left, 26, "Training curves", fmt::format("font-size=\"16\" font-weight=\"bold\" fill=\"{}\"", kTextColour));

  // Domains.
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  auto scan = [&](const std::vector<std::pair<double, double>>& s, bool y) {
    for (const auto& [x, v] : s) {
      if (!std::isfinite(x) || !std::isfinite(v)) continue;
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      if (y) {
        ymin = std::min(ymin, v);
        ymax = std::max(ymax, v);
      }
    }
  };
  scan(m.train_loss, true);
  scan(m.val_loss, true);
  scan(m.val_accuracy, false);
  const bool any = std::isfinite(xmin);
  const bool has_loss = std::isfinite(ymin);
  if (!any) {
    b << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" stroke=\"#cccccc\"/>\n", num(left),
                     num(top), num(right - left), num(bottom - top));
    b << text_el((left + right) / 2, (top + bottom) / 2, "no metrics recorded",
                 fmt::format("font-size=\"14\" text-anchor=\"middle\" fill=\"{}\"", kMutedColour));
    return svg.finish();
  }
  // Steps are normally whole numbers: then no fractional x ticks.
  bool whole_steps = true;
  for (const auto* s : {&m.train_loss, &m.val_loss, &m.val_accuracy})
    for (const auto& pt : *s)
      if (std::isfinite(pt.first) && pt.first != std::floor(pt.first)) whole_steps = false;
  const Axis ax = nice_axis(xmin, xmax, 8, whole_steps ? 1.0 : 0.0);
  // A little headroom so markers at the extremes do not sit on the frame.
  const double ypad = 0.04 * (ymax - ymin);
  Axis ay = has_loss ? nice_axis(ymin - ypad, ymax + ypad, 6) : Axis{};
  if (has_loss && ymin >= 0 && ay.lo < 0) ay.lo = 0;
  const Axis aacc{0, 1, 0.2};
  auto sx = [&](double x) { return left + (x - ax.lo) / (ax.hi - ax.lo) * (right - left); };
  auto sy = [&](double y) { return bottom - (y - ay.lo) / (ay.hi - ay.lo) * (bottom - top); };
  auto sa = [&](double a) { return bottom - std::clamp(a, 0.0, 1.0) * (bottom - top); };

  // Grid, axes, ticks.
  b << "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
  for (double t : ax.ticks())
    b << fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", num(sx(t)), num(top), num(bottom));
  if (has_loss)
    for (double t : ay.ticks())
      b << fmt::format("<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\"/>\n", num(sy(t)), num(left), num(right));
  b << "</g>\n";
  b << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#555555\" stroke-width=\"1\"/>\n",
                   num(left), num(top), num(right - left), num(bottom - top));
  b << fmt::format("<g class=\"x-axis\" font-size=\"11\" fill=\"{}\" text-anchor=\"middle\">\n", kTextColour);
  for (double t : ax.ticks()) {
    b << fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#555555\"/>\n", num(sx(t)), num(bottom),
                     num(bottom + 5));
    b << text_el(sx(t), bottom + 18, tick_label(t, ax.step), "");
  }
  b << text_el((left + right) / 2, bottom + 40, "step", "font-size=\"12\"");
  b << "</g>\n";
  if (has_loss) {
    b << fmt::format("<g class=\"y-axis\" font-size=\"11\" fill=\"{}\" text-anchor=\"end\">\n", kTextColour);
    for (double t : ay.ticks()) {
      b << fmt::format("<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\" stroke=\"#555555\"/>\n", num(sy(t)), num(left - 5),
                       num(left));
      b << text_el(left - 8, sy(t) + 4, tick_label(t, ay.step), "");
    }
    b << fmt::format("<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">loss</text>\n",
                     num(left - 52), num((top + bottom) / 2));
    b << "</g>\n";
  }
  if (has_acc) {
    b << fmt::format("<g class=\"y2-axis\" font-size=\"11\" fill=\"{}\" text-anchor=\"start\">\n", "#2e7d32");
    for (double t : aacc.ticks()) {
      b << fmt::format("<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\" stroke=\"#555555\"/>\n", num(sa(t)), num(right),
                       num(right + 5));
      b << text_el(right + 8, sa(t) + 4, fmt::format("{:.1f}", t), "");
    }
    b << fmt::format("<text transform=\"translate({},{}) rotate(90)\" text-anchor=\"middle\" font-size=\"12\">val accuracy</text>\n",
                     num(right + 50), num((top + bottom) / 2));
    b << "</g>\n";
  }

  // Series.
  auto polyline = [&](const std::vector<std::pair<double, double>>& pts, auto&& ys, const std::string& attrs) {
    for (const auto& run : finite_runs(pts)) {
      if (run.size() < 2) continue;
      std::string p;
      for (const auto& [x, y] : run) p += fmt::format("{},{} ", num(sx(x)), num(ys(y)));
      p.pop_back();
      b << fmt::format("<polyline fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\" points=\"{}\" {}/>\n", p,
                       attrs);
    }
  };
  struct LegendItem {
    std::string label, colour, dash, marker;  // marker: "", "circle", "square"
    double width, opacity;
  };
  std::vector<LegendItem> legend;

  const auto train = finite_runs(m.train_loss);
  size_t n_train = 0;
  for (const auto& r : train) n_train += r.size();
  if (n_train > 0) {
    const bool smooth = n_train >= 40;
    if (smooth) {
      polyline(m.train_loss, sy, "class=\"train-loss-raw\" stroke=\"#6baed6\" stroke-width=\"1\" stroke-opacity=\"0.6\"");
      // Exponential moving average, window about n/30 points, restarted at breaks.
      const double alpha = std::min(1.0, 2.0 / (static_cast<double>(n_train) / 30.0 + 1.0));
      std::vector<std::pair<double, double>> ema;
      for (const auto& run : train) {
        double s = run.front().second;
        for (const auto& [x, y] : run) {
          s += alpha * (y - s);
          ema.emplace_back(x, s);
        }
        ema.emplace_back(std::numeric_limits<double>::quiet_NaN(), 0.0);
      }
      polyline(ema, sy, "class=\"train-loss\" stroke=\"#08519c\" stroke-width=\"2\"");
      legend.push_back({"train loss", "#6baed6", "", "", 1, 0.6});
      legend.push_back({"train loss (EMA)", "#08519c", "", "", 2, 1});
    } else {
      polyline(m.train_loss, sy, "class=\"train-loss\" stroke=\"#1f6fb4\" stroke-width=\"2\"");
      for (const auto& run : train)
        for (const auto& [x, y] : run)
          b << fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"#1f6fb4\"/>\n", num(sx(x)), num(sy(y)));
      legend.push_back({"train loss", "#1f6fb4", "", "circle", 2, 1});
    }
  }
  if (!finite_runs(m.val_loss).empty()) {
    polyline(m.val_loss, sy, "class=\"val-loss\" stroke=\"#e6550d\" stroke-width=\"2\"");
    for (const auto& run : finite_runs(m.val_loss))
      for (const auto& [x, y] : run)
        b << fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"#e6550d\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
                         num(sx(x)), num(sy(y)));
    legend.push_back({"val loss", "#e6550d", "", "circle", 2, 1});
  }
  if (has_acc) {
    polyline(m.val_accuracy, sa, "class=\"val-accuracy\" stroke=\"#31a354\" stroke-width=\"2\" stroke-dasharray=\"6 4\"");
    for (const auto& run : finite_runs(m.val_accuracy))
      for (const auto& [x, y] : run)
        b << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"7\" height=\"7\" fill=\"#31a354\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
                         num(sx(x) - 3.5), num(sa(y) - 3.5));
    legend.push_back({"val accuracy (right axis)", "#31a354", "6 4", "square", 2, 1});
  }

  // Legend: one row above the plot.
  b << fmt::format("<g class=\"legend\" font-size=\"12\" fill=\"{}\">\n", kTextColour);
  double lx = left;
  const double ly = 50;
  for (const auto& it : legend) {
    b << fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\" stroke-opacity=\"{}\"{}/>\n",
                     num(lx), num(ly), num(lx + 26), num(ly), it.colour, num(it.width), num(it.opacity),
                     it.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", it.dash));
    if (it.marker == "circle")
      b << fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
                       num(lx + 13), num(ly), it.colour);
    else if (it.marker == "square")
      b << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"7\" height=\"7\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
                       num(lx + 9.5), num(ly - 3.5), it.colour);
    b << text_el(lx + 32, ly + 4, xml_escape(it.label), "");
    lx += 32 + sans_width(it.label, 12) + 22;
  }
  b << "</g>\n";
  return svg.finish();
}

// ---- report ----

void write_report(const std::string& out_dir, const std::string& title, const std::vector<RoutedExample>& examples,
                  const std::vector<train::LayerStats>& stats, const train::MetricsSeries& metrics, const std::string& summary_html) {
  const fs::path dir(out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw std::runtime_error(fmt::format("write_report: cannot create directory {}: {}", out_dir, ec.message()));

  std::vector<std::string> example_svgs;
  for (size_t i = 0; i < examples.size(); ++i) {
    example_svgs.push_back(gate_heatmap_svg(examples[i], stats));
    write_file_atomic((dir / fmt::format("example_{}.svg", i)).string(), example_svgs.back());
  }
  const std::string curve = loss_curve_svg(metrics);
  write_file_atomic((dir / "loss_curve.svg").string(), curve);

  nlohmann::json js;
  js["title"] = title;
  js["layers"] = nlohmann::json::array();
  for (size_t i = 0; i < stats.size(); ++i)
    js["layers"].push_back({{"layer", i}, {"density", stats[i].density}, {"mean_span", stats[i].mean_span}});
  write_file_atomic((dir / "stats.json").string(), js.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");

  const std::string t = xml_escape(title.empty() ? std::string("SeqBoat report") : title);
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += fmt::format("<title>{}</title>\n", t);
  h += R"(<style>
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 1560px; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 24px; margin-bottom: 8px; }
h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.summary { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 6px; padding: 8px 16px; }
table.stats { border-collapse: collapse; font-size: 14px; }
table.stats th, table.stats td { padding: 4px 14px; border-bottom: 1px solid #e5e5e5; text-align: right; }
table.stats th { background: #f3f3f3; }
td.bar { text-align: left; width: 220px; }
td.bar div { background: #41b6c4; height: 10px; border-radius: 2px; }
.fig { overflow-x: auto; border: 1px solid #eee; border-radius: 4px; padding: 6px; margin: 6px 0; }
.fig svg { display: block; }
.files { font-size: 13px; color: #666; }
</style>
</head>
<body>
)";
  h += fmt::format("<h1>{}</h1>\n", t);
  if (!summary_html.empty()) h += fmt::format("<section class=\"summary\">\n{}\n</section>\n", summary_html);

  h += "<h2>Routing per layer</h2>\n";
  if (stats.empty()) {
    h += "<p>No per-layer statistics.</p>\n";
  } else {
    h += "<table class=\"stats\">\n<tr><th>layer</th><th>density</th><th></th><th>mean attention span</th></tr>\n";
    for (size_t i = 0; i < stats.size(); ++i) {
      const double d = stats[i].density;
      const double w = std::isfinite(d) ? std::clamp(d, 0.0, 1.0) * 100.0 : 0.0;
      h += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"bar\"><div style=\"width:{:.1f}%\"></div></td><td>{}</td></tr>\n", i,
                       std::isfinite(d) ? fmt::format("{:.1f}%", d * 100.0) : std::string("n/a"), w,
                       std::isfinite(stats[i].mean_span) ? fmt::format("{:.2f}", stats[i].mean_span) : std::string("n/a"));
    }
    h += "</table>\n";
    h += "<p class=\"files\">Density: share of non-padding tokens whose attention unit ran. Mean attention span: mean over "
         "active tokens of the distance, in original positions, between the furthest keys its window reaches. "
         "<a href=\"stats.json\">stats.json</a></p>\n";
  }

  h += "<h2>Training curves</h2>\n";
  h += fmt::format("<div class=\"fig\">\n{}</div>\n<p class=\"files\"><a href=\"loss_curve.svg\">loss_curve.svg</a></p>\n",
                   inline_svg(curve));

  h += "<h2>Examples</h2>\n";
  if (!examples.empty())
    h += "<p class=\"files\">One row per layer, one column per token: grey = the layer's attention unit skipped the token; "
         "coloured = it ran, darker = larger router gate. Row labels give the layer's average density when per-layer "
         "statistics are available; the count on the right is this example's. Hover a cell for details.</p>\n";
  if (examples.empty()) h += "<p>No examples.</p>\n";
  for (size_t i = 0; i < examples.size(); ++i) {
    const auto& ex = examples[i];
    h += fmt::format("<h3>Example {}</h3>\n<p class=\"files\">{} tokens, {} layers &middot; <a href=\"example_{}.svg\">example_{}.svg</a></p>\n",
                     i, ex.tokens.size(), ex.layers.size(), i, i);
    h += fmt::format("<div class=\"fig\">\n{}</div>\n", inline_svg(example_svgs[i]));
  }
  h += "</body>\n</html>\n";
  write_file_atomic((dir / "report.html").string(), h);
}

}  // namespace seqboat::report
