// train/svg.h: primitives for the report's hand-written SVG, internal to the
// report files (gate_heatmap.cpp, loss_curve.cpp): the shared fonts and text
// colours, compact number formatting, rough text widths for layout, "nice"
// axis ticks, and a document builder with a <text> element helper.
#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace seqboat::report {

inline constexpr const char* kSansFont = "DejaVu Sans, Helvetica, Arial, sans-serif";
inline constexpr const char* kTextColour = "#222222";
inline constexpr const char* kMutedColour = "#666666";

// A coordinate or size for an attribute: rounded to 2 decimals, trailing
// zeros dropped ("12.5", "3", never "-0"); non-finite values give "0".
std::string num(double v);

// Rough text widths (px) for layout: proportional and monospace fonts.
double sans_width(std::string_view s, double size, bool bold = false);
double mono_width(int chars, double size);

// An axis from lo to hi (multiples of step); ticks() lists lo, lo + step, ...,
// hi (at most about 1000 ticks; values within 1e-9 step of 0 become 0).
struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  std::vector<double> ticks() const;
};

// Extends [lo, hi] to multiples of a "nice" step (1, 2, 2.5 or 5 times a
// power of ten, at least min_step) giving about `target` intervals; a
// degenerate range is first widened by 10% (or 1 around 0). Non-finite
// bounds give the default 0..1 axis.
Axis nice_axis(double lo, double hi, int target, double min_step = 0);

// A tick value with just enough decimals to tell ticks `step` apart
// ("{:g}" for very large or small values; never "-0").
std::string tick_label(double v, double step);

// An SVG document: write elements into `body`; finish() wraps them in an
// <svg> root of the given size (sans-serif font) over a white background.
class Svg {
 public:
  Svg(double width, double height) : width_(width), height_(height) {}
  std::ostringstream body;
  std::string finish() const;

 private:
  double width_, height_;
};

// <text x=.. y=.. attrs>content</text>; the content must be XML-escaped already.
std::string text_el(double x, double y, const std::string& escaped_content, const std::string& attrs);

}  // namespace seqboat::report
