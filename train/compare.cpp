// train/compare.cpp: reading routing.json files and drawing the cross-task
// SMA comparison (see compare.h).
#include "train/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tensor/atomic_file.h"
#include "tensor/file_read.h"
#include "tensor/json_text.h"
#include "train/report.h"
#include "train/svg.h"

namespace seqboat::train {

using nlohmann::json;
namespace fs = std::filesystem;

RunRouting read_run_routing(const std::string& run_dir) {
  const std::string path = (fs::path(run_dir) / "routing.json").string();
  if (!fs::exists(path))
    throw std::runtime_error(fmt::format(
        "{}: missing; `seqboat train` writes it when a run finishes (did the run in {} finish?)", path, run_dir));
  json j;
  try {
    j = parse_json_text(read_file_limited(path, size_t{16} << 20, "routing file"), path + " is not valid JSON");
  } catch (const FileReadError& e) {
    throw std::runtime_error(e.what());
  } catch (const JsonTextError& e) {
    throw std::runtime_error(e.what());
  }
  auto bad = [&](const std::string& what) { return std::runtime_error(fmt::format("{}: {}", path, what)); };
  if (!j.is_object()) throw bad("expected a JSON object");
  auto field = [&](const json& o, const char* k, json::value_t t1, json::value_t t2) -> const json& {
    if (!o.contains(k)) throw bad(fmt::format("missing '{}'", k));
    const json& v = o.at(k);
    if (v.type() != t1 && v.type() != t2 && !(t1 == json::value_t::number_float && v.is_number()))
      throw bad(fmt::format("'{}' has the wrong type ({})", k, json_excerpt(v)));
    return v;
  };
  using T = json::value_t;
  RunRouting r;
  r.run = run_dir;
  r.task = field(j, "task", T::string, T::string).get<std::string>();
  r.test_accuracy = field(j, "test_accuracy", T::number_float, T::number_float).get<double>();
  r.window = field(j, "window", T::number_unsigned, T::number_integer).get<int64_t>();
  r.examples = field(j, "examples", T::number_unsigned, T::number_integer).get<int64_t>();
  if (j.contains("bits_per_byte")) {
    r.has_bits_per_byte = true;
    r.bits_per_byte = field(j, "bits_per_byte", T::number_float, T::number_float).get<double>();
  }
  const json& layers = field(j, "layers", T::array, T::array);
  if (layers.empty() || layers.size() > 1024) throw bad(fmt::format("{} layers (1 to 1024 expected)", layers.size()));
  for (const json& l : layers) {
    if (!l.is_object()) throw bad("a layer entry is not an object");
    LayerStats s;
    s.density = field(l, "density", T::number_float, T::number_float).get<double>();
    s.mean_span = field(l, "mean_span", T::number_float, T::number_float).get<double>();
    if (!(s.density >= 0 && s.density <= 1)) throw bad(fmt::format("density {} is outside 0..1", s.density));
    if (!(s.mean_span >= 0 && std::isfinite(s.mean_span))) throw bad(fmt::format("mean span {} is negative", s.mean_span));
    r.layers.push_back(s);
  }
  return r;
}

namespace {

using report::num;
using report::text_el;
using report::xml_escape;

constexpr double kLabelW = 190, kPanelW = 400, kGap = 36, kRowH = 104, kBarsH = 66, kTop = 92, kMargin = 16;

std::string run_label(const RunRouting& r) { return r.task; }
std::string run_detail(const RunRouting& r) {
  const std::string result = r.has_bits_per_byte ? fmt::format("{:.3f} bits/byte", r.bits_per_byte)
                                                 : fmt::format("{:.1f}% test accuracy", 100 * r.test_accuracy);
  return fmt::format("{}, window {}", result, r.window);
}

// One row's bars in one panel: values (already in axis units) over [0, hi].
// Layer i sits at the same x in every row (slot = the width per layer for the
// run with the most layers), so layers line up down the page; faint lines
// mark half and all of the axis.
void draw_bars(std::ostringstream& o, double x0, double y0, const std::vector<double>& v, double hi, double slot,
               const std::string& colour, const std::string& unit, int decimals) {
  const double w = std::min(30.0, slot * 0.7);
  const double base = y0 + kBarsH;
  for (double f : {0.5, 1.0})
    o << fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dddddd" stroke-width="1" stroke-dasharray="3,3"/>)",
                     num(x0), num(base - kBarsH * f), num(x0 + kPanelW), num(base - kBarsH * f))
      << "\n";
  o << text_el(x0 - 4, base + 11, "layer", R"(font-size="9" text-anchor="end" fill="#888888")") << "\n";
  for (size_t i = 0; i < v.size(); ++i) {
    const double h = hi > 0 ? kBarsH * std::min(1.0, v[i] / hi) : 0;
    const double cx = x0 + 8 + slot * (static_cast<double>(i) + 0.5);
    const std::string value = fmt::format("{:.{}f}{}", v[i], decimals, unit);
    o << fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>layer {}: {}</title></rect>)",
                     num(cx - w / 2), num(base - h), num(w), num(std::max(h, 0.5)), colour, i + 1, value)
      << "\n";
    if (slot >= 22) o << text_el(cx, base - h - 3, value, R"(font-size="9" text-anchor="middle" fill="#333333")") << "\n";
    o << text_el(cx, base + 11, fmt::format("{}", i + 1), R"(font-size="9" text-anchor="middle" fill="#666666")") << "\n";
  }
  o << fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999999" stroke-width="1"/>)", num(x0), num(base),
                   num(x0 + kPanelW), num(base))
    << "\n";
}

}  // namespace

std::string compare_svg(const std::vector<RunRouting>& runs) {
  double span_max = 0;
  for (const auto& r : runs)
    for (const auto& l : r.layers) span_max = std::max(span_max, l.mean_span);
  const report::Axis span_axis = report::nice_axis(0, std::max(1.0, span_max), 4);
  size_t most_layers = 1;
  for (const auto& r : runs) most_layers = std::max(most_layers, r.layers.size());
  const double slot = std::min(46.0, (kPanelW - 16) / static_cast<double>(most_layers));
  const double width = kMargin * 2 + kLabelW + 2 * kPanelW + kGap;
  const double height = kTop + kRowH * static_cast<double>(runs.size()) + 4;
  report::Svg svg(width, height);
  auto& o = svg.body;
  const double px1 = kMargin + kLabelW, px2 = px1 + kPanelW + kGap;
  o << text_el(kMargin, 24, "Sparse Modular Activation across tasks",
               R"(font-size="17" font-weight="bold" fill="#222222")")
    << "\n";
  o << text_el(kMargin, 44,
               "Per layer (1 = first), over each run's test split: bars left, the share of real tokens the router sent "
               "to attention; right, their mean attention span.",
               R"(font-size="11" fill="#666666")")
    << "\n";
  o << text_el(px1, 74, "Tokens routed to attention (% of real tokens, axis 0-100%)",
               R"(font-size="12" font-weight="bold" fill="#2b5d9b")")
    << "\n";
  o << text_el(px2, 74, fmt::format("Mean attention span (original positions, axis 0-{})", report::tick_label(span_axis.hi, span_axis.step)),
               R"(font-size="12" font-weight="bold" fill="#b35f12")")
    << "\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunRouting& r = runs[i];
    const double y0 = kTop + kRowH * static_cast<double>(i);
    if (i % 2 == 1)
      o << fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="#f4f6f8"/>)", num(kMargin / 2), num(y0 - 8),
                       num(width - kMargin), num(kRowH))
        << "\n";
    o << text_el(kMargin, y0 + 24, xml_escape(run_label(r)), R"(font-size="14" font-weight="bold" fill="#222222")") << "\n";
    o << text_el(kMargin, y0 + 41, xml_escape(run_detail(r)), R"(font-size="10" fill="#444444")") << "\n";
    std::string dir = fs::path(r.run).filename().string();
    if (dir.empty()) dir = r.run;
    if (dir != r.task)  // the run's folder, when it says more than the task
      o << text_el(kMargin, y0 + 56, xml_escape(dir.size() > 30 ? dir.substr(0, 29) + "..." : dir),
                   R"(font-size="9" fill="#888888")")
        << "\n";
    std::vector<double> dens, spans;
    for (const auto& l : r.layers) {
      dens.push_back(100 * l.density);
      spans.push_back(l.mean_span);
    }
    draw_bars(o, px1, y0 + 4, dens, 100, slot, "#3b73b9", "%", 0);
    draw_bars(o, px2, y0 + 4, spans, span_axis.hi, slot, "#e08a2e", "", span_axis.hi >= 100 ? 0 : 1);
  }
  return svg.finish();
}

std::string compare_json(const std::vector<RunRouting>& runs) {
  json out = {{"runs", json::array()}};
  for (const auto& r : runs) {
    json layers = json::array();
    for (size_t i = 0; i < r.layers.size(); ++i)
      layers.push_back({{"layer", i}, {"density", r.layers[i].density}, {"mean_span", r.layers[i].mean_span}});
    json e = {{"run", r.run}, {"task", r.task}, {"test_accuracy", r.test_accuracy}, {"window", r.window},
              {"examples", r.examples}, {"layers", layers}};
    if (r.has_bits_per_byte) e["bits_per_byte"] = r.bits_per_byte;
    out["runs"].push_back(e);
  }
  return out.dump(2) + "\n";
}

std::string compare_html(const std::vector<RunRouting>& runs, const std::string& svg) {
  std::string rows;
  for (const auto& r : runs)
    for (size_t i = 0; i < r.layers.size(); ++i)
      rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}%</td><td>{:.1f}</td></tr>\n",
                          xml_escape(r.task), xml_escape(r.run), i + 1, 100 * r.layers[i].density, r.layers[i].mean_span);
  return fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>SMA across tasks</title>\n"
      "<style>body{{font-family:sans-serif;margin:24px;color:#222}} table{{border-collapse:collapse}} "
      "td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}} td:nth-child(-n+2){{text-align:left}}</style>"
      "</head><body>\n<h1>Sparse Modular Activation across tasks</h1>\n"
      "<p>For each run: per layer, the share of real test tokens whose router chose the attention unit, and the mean "
      "span (in original positions) of the keys an active token attends to. Numbers: <a href=\"compare.json\">"
      "compare.json</a>; picture: <a href=\"compare.svg\">compare.svg</a>.</p>\n{}\n"
      "<table><tr><th>task</th><th>run</th><th>layer</th><th>routed to attention</th><th>mean span</th></tr>\n{}"
      "</table>\n</body></html>\n",
      svg, rows);
}

void write_comparison(const std::vector<RunRouting>& runs, const std::string& out_dir) {
  fs::create_directories(out_dir);
  const std::string svg = compare_svg(runs);
  write_file_atomic((fs::path(out_dir) / "compare.svg").string(), svg);
  write_file_atomic((fs::path(out_dir) / "compare.json").string(), compare_json(runs));
  write_file_atomic((fs::path(out_dir) / "compare.html").string(), compare_html(runs, svg));
}

}  // namespace seqboat::train
