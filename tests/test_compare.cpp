// tests/test_compare.cpp: `seqboat compare`'s reading of routing.json (every
// field checked, errors naming the file) and its outputs: the SVG holds one
// bar per layer and run with the values, escaped text from the files, and
// the JSON holds the numbers read.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "train/compare.h"

using namespace seqboat;
using nlohmann::json;
using seqboat::testing::TempDir;
using seqboat::testing::write_all;
namespace fs = std::filesystem;

namespace {
void routing(const fs::path& dir, const std::string& task, std::vector<std::pair<double, double>> layers) {
  fs::create_directories(dir);
  json l = json::array();
  for (auto [d, s] : layers) l.push_back({{"layer", l.size()}, {"density", d}, {"mean_span", s}});
  write_all(dir / "routing.json",
            json{{"task", task}, {"split", "test"}, {"examples", 10}, {"window", 4}, {"test_accuracy", 0.5}, {"layers", l}}.dump());
}
}  // namespace

TEST_CASE("compare: reads routing.json of each run and draws them side by side") {
  TempDir tmp;
  routing(tmp.path / "a", "listops", {{0.25, 3.5}, {0.5, 10}});
  routing(tmp.path / "b", "image<&>", {{1.0, 40}, {0.0, 0}, {0.125, 7}});
  std::vector<train::RunRouting> runs = {train::read_run_routing((tmp.path / "a").string()),
                                         train::read_run_routing((tmp.path / "b").string())};
  CHECK(runs[1].layers.size() == 3);
  CHECK(runs[0].layers[1].mean_span == 10);
  const std::string svg = train::compare_svg(runs);
  CHECK(svg.find("image&lt;&amp;&gt;") != std::string::npos);
  CHECK(svg.find("<title>layer 2: 50%</title>") != std::string::npos);
  CHECK(svg.find("<title>layer 1: 40.0</title>") != std::string::npos);
  size_t bars = 0;
  for (size_t at = svg.find("<title>layer "); at != std::string::npos; at = svg.find("<title>layer ", at + 1)) ++bars;
  CHECK(bars == 10);  // (2 + 3 layers) x 2 panels
  train::write_comparison(runs, (tmp.path / "out").string());
  const json j = json::parse(seqboat::testing::read_all(tmp.path / "out" / "compare.json"));
  CHECK(j["runs"][1]["layers"][2]["density"] == 0.125);
  CHECK(fs::exists(tmp.path / "out" / "compare.html"));
}

TEST_CASE("compare: a missing or malformed routing.json is an error naming the file") {
  TempDir tmp;
  CHECK_THROWS_WITH_AS(train::read_run_routing((tmp.path / "none").string()), doctest::Contains("did the run"),
                       std::runtime_error);
  routing(tmp.path / "x", "t", {{1.5, 1}});
  CHECK_THROWS_WITH_AS(train::read_run_routing((tmp.path / "x").string()), doctest::Contains("density 1.5 is outside"),
                       std::runtime_error);
  write_all(tmp.path / "x" / "routing.json", "{\"task\": 3}");
  CHECK_THROWS_WITH_AS(train::read_run_routing((tmp.path / "x").string()), doctest::Contains("routing.json: 'task'"),
                       std::runtime_error);
  write_all(tmp.path / "x" / "routing.json", "[1,");
  CHECK_THROWS_WITH_AS(train::read_run_routing((tmp.path / "x").string()), doctest::Contains("not valid JSON"),
                       std::runtime_error);
}
