// train/svg.cpp: number formatting, text widths, axis ticks and the SVG
// document builder for the report (see svg.h).
#include "train/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "train/svg_text.h"

namespace seqboat::report {
namespace {

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

}  // namespace

std::string num(double v) {
  if (!std::isfinite(v)) return "0";
  const double r = std::round(v * 100.0) / 100.0;
  std::string s = fmt::format("{:.2f}", r);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

double sans_width(std::string_view s, double size, bool bold) {
  return count_code_points(s) * size * (bold ? 0.64 : 0.58);
}
double mono_width(int chars, double size) { return chars * size * 0.61; }

std::vector<double> Axis::ticks() const {
  std::vector<double> t;
  for (int k = 0;; ++k) {
    const double v = lo + k * step;
    if (v > hi + step * 1e-6) break;
    t.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
    if (k > 1000) break;
  }
  return t;
}

Axis nice_axis(double lo, double hi, int target, double min_step) {
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

std::string Svg::finish() const {
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"{2}\">\n"
      "<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"#ffffff\"/>\n",
      num(width_), num(height_), kSansFont);
  out += body.str();
  out += "</svg>\n";
  return out;
}

std::string text_el(double x, double y, const std::string& escaped_content, const std::string& attrs) {
  return fmt::format("<text x=\"{}\" y=\"{}\" {}>{}</text>\n", num(x), num(y), attrs, escaped_content);
}

}  // namespace seqboat::report
