// Tests for train/report: gate heatmap and loss curve SVGs (checked with a
// tiny XML well-formedness checker) and the files write_report produces.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.h"
#include "train/report.h"

namespace {

namespace fs = std::filesystem;
using namespace seqboat::report;
using seqboat::train::LayerStats;
using seqboat::train::MetricsSeries;

using seqboat::testing::read_all;
using seqboat::testing::TempDir;
using seqboat::testing::write_all;

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (int k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

// A minimal XML well-formedness checker: one root element, balanced and
// properly nested tags, quoted attributes without '<', only the predefined or
// numeric entities, no raw '<' in text, no forbidden control characters, valid
// UTF-8. Returns "" when well-formed, else what is wrong.
std::string xml_error(const std::string& s) {
  if (!valid_utf8(s)) return "invalid UTF-8";
  for (unsigned char c : s)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return "control character";
  auto check_entities = [](const std::string& text) -> std::string {
    static const std::regex ent("^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);");
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '<') return "raw '<' in text";
      if (text[i] == '&' && !std::regex_search(text.substr(i, 12), ent))
        return "bad entity near: " + text.substr(i, 12);
    }
    return "";
  };
  std::vector<std::string> stack;
  int roots = 0;
  size_t i = 0;
  auto is_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' || c == '.';
  };
  while (i < s.size()) {
    if (s[i] != '<') {
      const size_t next = s.find('<', i);
      const std::string text = s.substr(i, next == std::string::npos ? std::string::npos : next - i);
      if (stack.empty() && text.find_first_not_of(" \t\r\n") != std::string::npos) return "text outside the root";
      if (auto e = check_entities(text); !e.empty()) return e;
      i = next == std::string::npos ? s.size() : next;
      continue;
    }
    if (s.compare(i, 4, "<!--") == 0) {
      const size_t end = s.find("-->", i);
      if (end == std::string::npos) return "unterminated comment";
      i = end + 3;
      continue;
    }
    if (s.compare(i, 2, "<?") == 0) {
      const size_t end = s.find("?>", i);
      if (end == std::string::npos) return "unterminated declaration";
      i = end + 2;
      continue;
    }
    const bool closing = s.compare(i, 2, "</") == 0;
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < s.size() && is_name(s[j])) ++j;
    const std::string name = s.substr(name_start, j - name_start);
    if (name.empty()) return "empty tag name at " + std::to_string(i);
    if (closing) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j >= s.size() || s[j] != '>') return "bad closing tag " + name;
      if (stack.empty() || stack.back() != name) return "mismatched </" + name + ">";
      stack.pop_back();
      i = j + 1;
      continue;
    }
    std::set<std::string> attrs;
    bool self_closing = false;
    for (;;) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j >= s.size()) return "unterminated tag " + name;
      if (s[j] == '>') {
        ++j;
        break;
      }
      if (s.compare(j, 2, "/>") == 0) {
        self_closing = true;
        j += 2;
        break;
      }
      const size_t an = j;
      while (j < s.size() && is_name(s[j])) ++j;
      const std::string attr = s.substr(an, j - an);
      if (attr.empty()) return "bad attribute in <" + name + ">";
      if (!attrs.insert(attr).second) return "duplicate attribute " + attr;
      if (j >= s.size() || s[j] != '=') return "attribute without value: " + attr;
      ++j;
      if (j >= s.size() || (s[j] != '"' && s[j] != '\'')) return "unquoted attribute " + attr;
      const char q = s[j];
      const size_t end = s.find(q, j + 1);
      if (end == std::string::npos) return "unterminated attribute " + attr;
      if (auto e = check_entities(s.substr(j + 1, end - j - 1)); !e.empty()) return e + " (attribute " + attr + ")";
      j = end + 1;
    }
    if (stack.empty()) ++roots;
    if (!self_closing) stack.push_back(name);
    i = j;
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  if (roots != 1) return "expected one root element, got " + std::to_string(roots);
  return "";
}

size_t count_of(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + needle.size())) ++n;
  return n;
}

// Fill colours of the cell rects, in document order (layer-major).
std::vector<std::string> cell_fills(const std::string& svg) {
  static const std::regex cell(R"re(<rect class="cell"[^>]*fill="([^"]+)")re");
  std::vector<std::string> fills;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), cell); it != std::sregex_iterator(); ++it)
    fills.push_back((*it)[1].str());
  return fills;
}

RoutedExample make_example(int n_tokens, int n_layers, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const char* vocab[] = {"[MAX", "[MIN", "[MED", "[SM", "]", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  RoutedExample ex;
  ex.title = "random example";
  for (int t = 0; t < n_tokens; ++t) ex.tokens.emplace_back(vocab[rng() % 15]);
  for (int l = 0; l < n_layers; ++l) {
    LayerRoute r;
    for (int t = 0; t < n_tokens; ++t) {
      const double p = u(rng);
      r.active.push_back(p > 0.5);
      r.gate.push_back(p > 0.5 ? p : 0.0);
    }
    ex.layers.push_back(std::move(r));
  }
  ex.label = 3;
  ex.predicted = 5;
  return ex;
}

}  // namespace

TEST_CASE("xml checker sanity") {
  CHECK(xml_error("<a><b x=\"1\"/>t &amp; u</a>") == "");
  CHECK(xml_error("<a><b></a>") != "");
  CHECK(xml_error("<a>x < y</a>") != "");
  CHECK(xml_error("<a>&bogus;</a>") != "");
  CHECK(xml_error("<a b=\"<\"/>") != "");
  CHECK(xml_error("<a/><b/>") != "");
  CHECK(xml_error("<a>\x80</a>") != "");
}

TEST_CASE("xml_escape escapes markup and replaces invalid bytes") {
  CHECK(xml_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;");
  CHECK(xml_escape("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(xml_escape("\x80x") == "\xEF\xBF\xBDx");
  CHECK(xml_escape(std::string("a\x01"
                               "b")) ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(xml_escape("\xC0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong NUL
  CHECK(xml_escape("tab\tnl\n") == "tab\tnl\n");
}

TEST_CASE("gate heatmap: well-formed, one cell per (layer, token), escaped tokens") {
  RoutedExample ex;
  ex.title = "tricky <title> & \"quotes\"";
  ex.tokens = {"[MAX", "<", "&", "]", "\"", "'", " ", "\n", "\x80", "", "caf\xC3\xA9", "a-very-long-token-indeed"};
  const int L = static_cast<int>(ex.tokens.size());
  for (int l = 0; l < 3; ++l) {
    LayerRoute r;
    for (int t = 0; t < L; ++t) {
      r.active.push_back((t + l) % 3 != 0);
      r.gate.push_back(r.active.back() ? 0.5 + 0.04 * t : 0.0);
    }
    ex.layers.push_back(r);
  }
  ex.label = 7;
  ex.predicted = 7;
  const std::string svg = gate_heatmap_svg(ex, {});
  INFO(svg);
  CHECK(xml_error(svg) == "");
  CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(count_of(svg, "<rect class=\"cell\"") == static_cast<size_t>(3 * L));
  CHECK(cell_fills(svg).size() == static_cast<size_t>(3 * L));
  // Tokens render escaped.
  CHECK(svg.find(">[MAX</text>") != std::string::npos);
  CHECK(svg.find(">&lt;</text>") != std::string::npos);
  CHECK(svg.find(">&amp;</text>") != std::string::npos);
  CHECK(svg.find(">]</text>") != std::string::npos);
  CHECK(svg.find(">&quot;</text>") != std::string::npos);
  CHECK(svg.find(">\\n</text>") != std::string::npos);
  CHECK(svg.find(">\\x80</text>") != std::string::npos);
  CHECK(svg.find(">caf\xC3\xA9</text>") != std::string::npos);
  CHECK(svg.find("a-very-long\xE2\x80\xA6</text>") != std::string::npos);  // cut to 12 chars with an ellipsis
  CHECK(svg.find("tricky &lt;title&gt; &amp; &quot;quotes&quot;") != std::string::npos);
  CHECK(svg.find("label 7") != std::string::npos);
  CHECK(svg.find("predicted 7") != std::string::npos);
  CHECK(svg.find("(correct)") != std::string::npos);
  // Long tokens force rotated labels.
  CHECK(svg.find("rotate(-90)") != std::string::npos);
  // Row labels: without stats, the example's own density (8 of 12 active).
  CHECK(svg.find(">layer 0</tspan>") != std::string::npos);
  CHECK(svg.find(">layer 2</tspan>") != std::string::npos);
  CHECK(svg.find("density 67%") != std::string::npos);
  CHECK(svg.find("avg density") == std::string::npos);
  CHECK(svg.find("8 / 12 active") != std::string::npos);
}

TEST_CASE("gate heatmap: colours, legend, stats in row labels") {
  RoutedExample ex;
  ex.title = "colours";
  ex.tokens = {"a", "b", "c", "d"};
  // inactive, active gate 0, active gate 1, active gate 0.5
  ex.layers.push_back({{0.0, 0.0, 1.0, 0.5}, {false, true, true, true}});
  const std::string svg = gate_heatmap_svg(ex, {{0.23, 4.5}});
  CHECK(xml_error(svg) == "");
  const auto fills = cell_fills(svg);
  REQUIRE(fills.size() == 4);
  CHECK(fills[0] != fills[1]);  // inactive vs active with gate 0
  CHECK(fills[0] != fills[2]);
  CHECK(fills[0] != fills[3]);
  CHECK(fills[1] != fills[2]);
  CHECK(fills[1] != fills[3]);
  CHECK(fills[2] != fills[3]);
  CHECK(fills[1] == "#ffffd9");  // light yellow at gate 0
  CHECK(fills[2] == "#081d58");  // dark blue at gate 1
  // The inactive colour is a grey (r == g == b), the ramp is not.
  CHECK(fills[0].substr(1, 2) == fills[0].substr(3, 2));
  CHECK(fills[0].substr(3, 2) == fills[0].substr(5, 2));
  // Legend.
  CHECK(svg.find("class=\"legend\"") != std::string::npos);
  CHECK(svg.find(">inactive</text>") != std::string::npos);
  CHECK(svg.find("active, gate") != std::string::npos);
  // Row label density from stats (23%), count from the example.
  CHECK(svg.find("avg density 23%") != std::string::npos);
  CHECK(svg.find("3 / 4 active") != std::string::npos);
  // Single-character tokens fit their cells: horizontal labels.
  CHECK(svg.find("rotate(-90)") == std::string::npos);
  CHECK(svg.find(">a</text>") != std::string::npos);
  // No label/prediction given: nothing about them in the title.
  CHECK(svg.find("predicted") == std::string::npos);
}

TEST_CASE("gate heatmap: long sequences get narrow cells and a position axis") {
  const auto ex = make_example(512, 2, 1);
  const std::string svg = gate_heatmap_svg(ex, {});
  CHECK(xml_error(svg) == "");
  CHECK(count_of(svg, "<rect class=\"cell\"") == 1024u);
  CHECK(svg.find("width=\"6\" height=\"22\"") != std::string::npos);  // cell width clamped to 6 px
  CHECK(svg.find("class=\"tokens\"") == std::string::npos);           // too narrow for text
  CHECK(svg.find("class=\"positions\"") != std::string::npos);
  CHECK(svg.find(">500</text>") != std::string::npos);
  CHECK(svg.find("(wrong)") != std::string::npos);
  // Width stays bounded: 512 * 6 px plus margins.
  static const std::regex width_re(R"re(<svg[^>]* width="([0-9.]+)")re");
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, width_re));
  const double w = std::stod(m[1].str());
  CHECK(w > 512 * 6);
  CHECK(w < 512 * 6 + 400);

  // A 60-token example: 20 px cells with (rotated, since "[MAX" is wide) labels.
  const std::string svg60 = gate_heatmap_svg(make_example(60, 3, 2), {});
  CHECK(xml_error(svg60) == "");
  CHECK(svg60.find("width=\"20\" height=\"22\"") != std::string::npos);
  CHECK(svg60.find("class=\"tokens\"") != std::string::npos);
}

TEST_CASE("gate heatmap: edge cases") {
  RoutedExample ex;
  ex.tokens = {"x", "y"};
  ex.layers.push_back({{0.5}, {true, false}});
  CHECK_THROWS_AS(gate_heatmap_svg(ex, {}), std::invalid_argument);
  ex.layers[0] = {{0.5, std::numeric_limits<double>::quiet_NaN()}, {true, true}};
  CHECK(xml_error(gate_heatmap_svg(ex, {})) == "");
  RoutedExample empty;
  const std::string svg = gate_heatmap_svg(empty, {});
  CHECK(xml_error(svg) == "");
  CHECK(count_of(svg, "<rect class=\"cell\"") == 0u);
}

TEST_CASE("loss curve svg") {
  MetricsSeries m;
  for (int s = 1; s <= 200; ++s)
    m.train_loss.emplace_back(s * 10, 2.3 * std::exp(-s / 60.0) + 0.3 + 0.05 * std::sin(s));
  for (int s = 1; s <= 5; ++s) {
    m.val_loss.emplace_back(s * 400, 2.3 * std::exp(-s * 40 / 60.0) + 0.35);
    m.val_accuracy.emplace_back(s * 400, 0.15 * s);
  }
  const std::string svg = loss_curve_svg(m);
  CHECK(xml_error(svg) == "");
  CHECK(svg.find("class=\"legend\"") != std::string::npos);
  CHECK(svg.find("class=\"train-loss\"") != std::string::npos);
  CHECK(svg.find("class=\"train-loss-raw\"") != std::string::npos);  // many points: raw + EMA
  CHECK(svg.find("class=\"val-loss\"") != std::string::npos);
  CHECK(svg.find("class=\"val-accuracy\"") != std::string::npos);
  CHECK(svg.find("class=\"y2-axis\"") != std::string::npos);
  CHECK(svg.find(">val accuracy</text>") != std::string::npos);
  CHECK(svg.find(">step</text>") != std::string::npos);
  CHECK(svg.find(">loss</text>") != std::string::npos);
  CHECK(svg.find(">2000</text>") != std::string::npos);  // an x tick
  CHECK(svg.find(">1.0</text>") != std::string::npos);   // top of the accuracy axis

  // No accuracy: no second axis; a NaN breaks the line but keeps the XML valid.
  MetricsSeries m2;
  m2.train_loss = {{0, 1.0}, {1, 0.8}, {2, std::numeric_limits<double>::quiet_NaN()}, {3, 0.6}, {4, 0.5}};
  const std::string svg2 = loss_curve_svg(m2);
  CHECK(xml_error(svg2) == "");
  CHECK(svg2.find("class=\"y2-axis\"") == std::string::npos);
  CHECK(count_of(svg2, "class=\"train-loss\"") == 2u);

  const std::string empty = loss_curve_svg({});
  CHECK(xml_error(empty) == "");
  CHECK(empty.find("no metrics recorded") != std::string::npos);
}

TEST_CASE("write_report creates every file and report.html references them") {
  TempDir td;
  const fs::path out = td.path / "nested" / "report";
  std::vector<RoutedExample> examples = {make_example(30, 2, 7), make_example(300, 2, 8)};
  examples[0].title = "first <one>";
  const std::vector<LayerStats> stats = {{0.25, 3.5}, {0.5, std::numeric_limits<double>::quiet_NaN()}};
  MetricsSeries m;
  m.train_loss = {{0, 2.3}, {10, 2.0}, {20, 1.7}};
  m.val_loss = {{20, 1.8}};
  m.val_accuracy = {{20, 0.4}};
  write_report(out.string(), "run \"A\" & co", examples, stats, m, "<p id=\"sum\">best val acc <b>40%</b></p>");

  for (const char* f : {"example_0.svg", "example_1.svg", "loss_curve.svg", "stats.json", "report.html"})
    CHECK_MESSAGE(fs::is_regular_file(out / f), f);
  for (const char* f : {"example_0.svg", "example_1.svg", "loss_curve.svg"}) {
    INFO(f);
    CHECK(xml_error(read_all(out / f)) == "");
  }
  for (const auto& e : fs::directory_iterator(out))
    CHECK_MESSAGE(e.path().filename().string().find(".tmp") == std::string::npos, e.path().string());

  const auto js = nlohmann::json::parse(read_all(out / "stats.json"));
  CHECK(js["title"] == "run \"A\" & co");
  REQUIRE(js["layers"].size() == 2);
  CHECK(js["layers"][0]["layer"] == 0);
  CHECK(js["layers"][0]["density"].get<double>() == doctest::Approx(0.25));
  CHECK(js["layers"][0]["mean_span"].get<double>() == doctest::Approx(3.5));
  CHECK(js["layers"][1]["mean_span"].is_null());

  const std::string html = read_all(out / "report.html");
  CHECK(html.starts_with("<!DOCTYPE html>"));
  CHECK(html.find("<title>run &quot;A&quot; &amp; co</title>") != std::string::npos);
  CHECK(html.find("<p id=\"sum\">best val acc <b>40%</b></p>") != std::string::npos);  // verbatim
  CHECK(html.find("href=\"example_0.svg\"") != std::string::npos);
  CHECK(html.find("href=\"example_1.svg\"") != std::string::npos);
  CHECK(html.find("href=\"loss_curve.svg\"") != std::string::npos);
  CHECK(html.find("href=\"stats.json\"") != std::string::npos);
  CHECK(count_of(html, "<svg ") == 3u);  // inline figures
  CHECK(html.find("first &lt;one&gt;") != std::string::npos);
  CHECK(html.find("<td>25.0%</td>") != std::string::npos);
  CHECK(html.find("<td>3.50</td>") != std::string::npos);
  CHECK(html.find("</html>") != std::string::npos);

  // Rewriting into the same directory replaces the files.
  write_report(out.string(), "second", {}, {}, {}, "");
  CHECK(nlohmann::json::parse(read_all(out / "stats.json"))["title"] == "second");
  CHECK(read_all(out / "report.html").find("No examples.") != std::string::npos);

  // A path that cannot be a directory.
  write_all(td.path / "file", "x");
  CHECK_THROWS_AS(write_report((td.path / "file" / "sub").string(), "t", {}, {}, {}, ""), std::runtime_error);
}
