// train/loss_curve.cpp: report::loss_curve_svg (see report.h): train and
// validation loss on the left axis, validation accuracy on the right.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "train/report.h"
#include "train/svg.h"

namespace seqboat::report {
namespace {

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

}  // namespace

std::string loss_curve_svg(const train::MetricsSeries& m) {
  const double W = 820, H = 460;
  const bool has_acc = !finite_runs(m.val_accuracy).empty();
  const double left = 78, right = W - (has_acc ? 78 : 28), top = 76, bottom = H - 58;
  Svg svg(W, H);
  auto& b = svg.body;
  b << text_el(left, 26, "Training curves",
               fmt::format("font-size=\"16\" font-weight=\"bold\" fill=\"{}\"", kTextColour));

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
    b << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" stroke=\"#cccccc\"/>\n",
                     num(left), num(top), num(right - left), num(bottom - top));
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
  b << fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#555555\" stroke-width=\"1\"/>\n",
      num(left), num(top), num(right - left), num(bottom - top));
  b << fmt::format("<g class=\"x-axis\" font-size=\"11\" fill=\"{}\" text-anchor=\"middle\">\n", kTextColour);
  for (double t : ax.ticks()) {
    b << fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#555555\"/>\n", num(sx(t)),
                     num(bottom), num(bottom + 5));
    b << text_el(sx(t), bottom + 18, tick_label(t, ax.step), "");
  }
  b << text_el((left + right) / 2, bottom + 40, "step", "font-size=\"12\"");
  b << "</g>\n";
  if (has_loss) {
    b << fmt::format("<g class=\"y-axis\" font-size=\"11\" fill=\"{}\" text-anchor=\"end\">\n", kTextColour);
    for (double t : ay.ticks()) {
      b << fmt::format("<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\" stroke=\"#555555\"/>\n", num(sy(t)),
                       num(left - 5), num(left));
      b << text_el(left - 8, sy(t) + 4, tick_label(t, ay.step), "");
    }
    b << fmt::format(
        "<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">loss</text>\n",
        num(left - 52), num((top + bottom) / 2));
    b << "</g>\n";
  }
  if (has_acc) {
    b << fmt::format("<g class=\"y2-axis\" font-size=\"11\" fill=\"{}\" text-anchor=\"start\">\n", "#2e7d32");
    for (double t : aacc.ticks()) {
      b << fmt::format("<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\" stroke=\"#555555\"/>\n", num(sa(t)),
                       num(right), num(right + 5));
      b << text_el(right + 8, sa(t) + 4, fmt::format("{:.1f}", t), "");
    }
    b << fmt::format(
        "<text transform=\"translate({},{}) rotate(90)\" text-anchor=\"middle\" font-size=\"12\">val accuracy</text>\n",
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
      b << fmt::format(
          "<polyline fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\" points=\"{}\" {}/>\n", p, attrs);
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
      polyline(m.train_loss, sy,
               "class=\"train-loss-raw\" stroke=\"#6baed6\" stroke-width=\"1\" stroke-opacity=\"0.6\"");
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
        b << fmt::format(
            "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"#e6550d\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
            num(sx(x)), num(sy(y)));
    legend.push_back({"val loss", "#e6550d", "", "circle", 2, 1});
  }
  if (has_acc) {
    polyline(m.val_accuracy, sa,
             "class=\"val-accuracy\" stroke=\"#31a354\" stroke-width=\"2\" stroke-dasharray=\"6 4\"");
    for (const auto& run : finite_runs(m.val_accuracy))
      for (const auto& [x, y] : run)
        b << fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"7\" height=\"7\" fill=\"#31a354\" stroke=\"#ffffff\" "
            "stroke-width=\"1\"/>\n",
            num(sx(x) - 3.5), num(sa(y) - 3.5));
    legend.push_back({"val accuracy (right axis)", "#31a354", "6 4", "square", 2, 1});
  }

  // Legend: one row above the plot.
  b << fmt::format("<g class=\"legend\" font-size=\"12\" fill=\"{}\">\n", kTextColour);
  double lx = left;
  const double ly = 50;
  for (const auto& it : legend) {
    b << fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\" stroke-opacity=\"{}\"{}/>\n",
        num(lx), num(ly), num(lx + 26), num(ly), it.colour, num(it.width), num(it.opacity),
        it.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", it.dash));
    if (it.marker == "circle")
      b << fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
                       num(lx + 13), num(ly), it.colour);
    else if (it.marker == "square")
      b << fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"7\" height=\"7\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
          num(lx + 9.5), num(ly - 3.5), it.colour);
    b << text_el(lx + 32, ly + 4, xml_escape(it.label), "");
    lx += 32 + sans_width(it.label, 12) + 22;
  }
  b << "</g>\n";
  return svg.finish();
}

}  // namespace seqboat::report
