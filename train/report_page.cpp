// train/report_page.cpp: report::write_report (see report.h): the heatmaps,
// the loss curve, stats.json and report.html tying them together.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "tensor/atomic_file.h"
#include "train/report.h"

namespace seqboat::report {

namespace fs = std::filesystem;

namespace {

// Drops a leading XML declaration so an SVG document can be inlined in HTML.
std::string inline_svg(const std::string& svg) {
  if (svg.starts_with("<?xml")) {
    const auto end = svg.find("?>");
    if (end != std::string::npos) return svg.substr(svg.find_first_not_of(" \r\n", end + 2));
  }
  return svg;
}

}  // namespace

void write_report(const std::string& out_dir, const std::string& title, const std::vector<RoutedExample>& examples,
                  const std::vector<train::LayerStats>& stats, const train::MetricsSeries& metrics,
                  const std::string& summary_html) {
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
  write_file_atomic((dir / "stats.json").string(),
                    js.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");

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
      h += fmt::format(
          "<tr><td>{}</td><td>{}</td><td class=\"bar\"><div style=\"width:{:.1f}%\"></div></td><td>{}</td></tr>\n", i,
          std::isfinite(d) ? fmt::format("{:.1f}%", d * 100.0) : std::string("n/a"), w,
          std::isfinite(stats[i].mean_span) ? fmt::format("{:.2f}", stats[i].mean_span) : std::string("n/a"));
    }
    h += "</table>\n";
    h += "<p class=\"files\">Density: share of non-padding tokens whose attention unit ran. Mean attention span: mean "
         "over "
         "active tokens of the distance, in original positions, between the furthest keys its window reaches. "
         "<a href=\"stats.json\">stats.json</a></p>\n";
  }

  h += "<h2>Training curves</h2>\n";
  h += fmt::format(
      "<div class=\"fig\">\n{}</div>\n<p class=\"files\"><a href=\"loss_curve.svg\">loss_curve.svg</a></p>\n",
      inline_svg(curve));

  h += "<h2>Examples</h2>\n";
  if (!examples.empty())
    h += "<p class=\"files\">One row per layer, one column per token: grey = the layer's attention unit skipped the "
         "token; "
         "coloured = it ran, darker = larger router gate. Row labels give the layer's average density when per-layer "
         "statistics are available; the count on the right is this example's. Hover a cell for details.</p>\n";
  if (examples.empty()) h += "<p>No examples.</p>\n";
  for (size_t i = 0; i < examples.size(); ++i) {
    const auto& ex = examples[i];
    h += fmt::format(
        "<h3>Example {}</h3>\n<p class=\"files\">{} tokens, {} layers &middot; <a "
        "href=\"example_{}.svg\">example_{}.svg</a></p>\n",
        i, ex.tokens.size(), ex.layers.size(), i, i);
    h += fmt::format("<div class=\"fig\">\n{}</div>\n", inline_svg(example_svgs[i]));
  }
  h += "</body>\n</html>\n";
  write_file_atomic((dir / "report.html").string(), h);
}

}  // namespace seqboat::report
