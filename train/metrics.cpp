// train/metrics.cpp: metrics.jsonl writer (MetricsLog) and reader
// (read_metrics_jsonl); see metrics.h.
#include "train/metrics.h"

#include <fmt/format.h>

#include <stdexcept>

#include "data/line_scan.h"
#include "tensor/atomic_file.h"
#include "tensor/file_read.h"
#include "tensor/json_text.h"

namespace seqboat::train {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Calls f(line) for each line of text (data/line_scan.h's rules: no line
// after a final '\n'), as std::getline gave them.
template <class F>
void for_each_line(const std::string& text, const std::string& path, F f) {
  auto line = [&](std::string_view l, uint64_t, uint64_t) { f(std::string(l)); };
  data::LineSplitter<decltype(line)> split(line, path, kMaxTextDataBytes);
  split.feed(text);
  split.finish();
}

}  // namespace

MetricsLog::MetricsLog(const fs::path& path, bool resume, int64_t resume_step) {
  std::string kept;
  if (resume && fs::exists(path)) {
    // A read error is an error (never a silently shortened history), and the
    // file is read as every seqboat file is: a FIFO or device in its place is
    // refused, not waited on.
    const std::string text = read_file_limited(path.string(), kMaxTextDataBytes, "metrics file");
    for_each_line(text, path.string(), [&](const std::string& line) {
      json e;
      try {
        e = parse_json_text(line, "metrics line");
      } catch (const JsonTextError&) {
        return;  // documented: lines that are not JSON are dropped
      }
      if (!e.is_object() || !e.contains("step") || !e["step"].is_number_integer()) return;
      const auto ev = e.find("event");
      if (ev != e.end() && *ev == "final") return;
      if (e["step"].get<int64_t>() <= resume_step) kept += line + "\n";
    });
  }
  write_file_atomic(path.string(), kept);
  out_ = std::make_unique<AppendFile>(path.string());
}

void MetricsLog::write(const json& event) { out_->append(event.dump() + "\n"); }

MetricsSeries read_metrics_jsonl(const std::string& path) {
  std::string text;
  try {
    text = read_file_limited(path, kMaxTextDataBytes, "metrics file");
  } catch (const FileReadError& e) {
    throw std::runtime_error(std::string("read_metrics_jsonl: ") + e.what());
  }
  MetricsSeries m;
  long long lineno = 0;
  auto fail = [&](const std::string& why) {
    return std::runtime_error(fmt::format("read_metrics_jsonl: {}:{}: {}", path, lineno, why));
  };
  for_each_line(text, path, [&](const std::string& line) {
    ++lineno;
    if (line.find_first_not_of(" \t\r\n") == std::string::npos) return;
    json j;
    try {
      j = parse_json_text(line, "malformed JSON");
    } catch (const JsonTextError& e) {
      throw fail(e.what());
    }
    if (!j.is_object()) throw fail("not a JSON object");
    const auto ev = j.find("event");
    if (ev == j.end() || !ev->is_string()) return;
    const std::string event = ev->get<std::string>();
    if (event != "train" && event != "eval") return;
    const auto st = j.find("step");
    if (st == j.end() || !st->is_number()) throw fail(fmt::format("\"{}\" line without a numeric \"step\"", event));
    const double step = st->get<double>();
    auto take = [&](const char* key, std::vector<std::pair<double, double>>& out) {
      const auto it = j.find(key);
      if (it == j.end() || it->is_null()) return;
      if (!it->is_number()) throw fail(fmt::format("\"{}\" is not a number", key));
      out.emplace_back(step, it->get<double>());
    };
    if (event == "train") {
      take("loss", m.train_loss);
    } else {
      take("val_loss", m.val_loss);
      take("val_accuracy", m.val_accuracy);
    }
  });
  return m;
}

}  // namespace seqboat::train
