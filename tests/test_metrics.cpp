// Tests for train/metrics: MetricsLog (what the trainer writes, and what a
// resume keeps) read back by read_metrics_jsonl, and the reader's parsing and
// error messages.
#include "train/metrics.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace seqboat::train;
using seqboat::testing::read_all;
using seqboat::testing::TempDir;
using seqboat::testing::write_all;

TEST_CASE("MetricsLog writes lines that read_metrics_jsonl reads back") {
  TempDir td;
  const fs::path p = td.path / "metrics.jsonl";
  write_all(p, "{\"event\":\"train\",\"step\":1,\"loss\":9}\n");  // a fresh log starts empty
  {
    MetricsLog log(p, false, 0);
    log.write({{"event", "train"}, {"step", 10}, {"loss", 2.5}});
    log.write({{"event", "eval"}, {"step", 10}, {"val_loss", 2.25}, {"val_accuracy", 0.5}});
    log.write({{"event", "final"}, {"test_accuracy", 0.5}});
    // Flushed after each event: readable while the log is still open.
    CHECK(read_all(p) ==
          "{\"event\":\"train\",\"loss\":2.5,\"step\":10}\n"
          "{\"event\":\"eval\",\"step\":10,\"val_accuracy\":0.5,\"val_loss\":2.25}\n"
          "{\"event\":\"final\",\"test_accuracy\":0.5}\n");
  }
  const MetricsSeries m = read_metrics_jsonl(p.string());
  REQUIRE(m.train_loss.size() == 1);
  CHECK(m.train_loss[0] == std::pair<double, double>{10, 2.5});
  CHECK(m.val_loss == std::vector<std::pair<double, double>>{{10, 2.25}});
  CHECK(m.val_accuracy == std::vector<std::pair<double, double>>{{10, 0.5}});
  CHECK(td.entries() == std::vector<std::string>{"metrics.jsonl"});
}

TEST_CASE("MetricsLog on resume keeps the events up to the checkpoint's step") {
  TempDir td;
  const fs::path p = td.path / "metrics.jsonl";
  write_all(p,
            "{\"event\":\"train\",\"step\":5,\"loss\":3}\n"
            "not json\n"
            "{\"event\":\"eval\",\"step\":10,\"val_loss\":2}\n"
            "{\"event\":\"train\",\"step\":15,\"loss\":1}\n"
            "{\"event\":\"final\",\"step\":15,\"test_accuracy\":0.5}\n");
  {
    MetricsLog log(p, true, 10);
    log.write({{"event", "resume"}, {"step", 10}});
  }
  CHECK(read_all(p) ==
        "{\"event\":\"train\",\"step\":5,\"loss\":3}\n"
        "{\"event\":\"eval\",\"step\":10,\"val_loss\":2}\n"
        "{\"event\":\"resume\",\"step\":10}\n");
}

TEST_CASE("read_metrics_jsonl parses train and eval lines") {
  TempDir td;
  const fs::path p = td.path / "metrics.jsonl";
  write_all(p,
            "{\"event\":\"start\",\"config\":{\"lr\":0.001}}\n"
            "{\"event\":\"train\",\"step\":10,\"loss\":2.5,\"lr\":0.001}\n"
            "\n"
            "{\"event\":\"train\",\"step\":20,\"loss\":2.0}\r\n"
            "{\"event\":\"train\",\"step\":30,\"loss\":null}\n"
            "{\"event\":\"eval\",\"step\":20,\"val_loss\":2.1,\"val_accuracy\":0.25}\n"
            "{\"event\":\"eval\",\"step\":40,\"val_loss\":1.9}\n"
            "{\"event\":\"final\",\"step\":40,\"val_loss\":1.8,\"test_accuracy\":0.3}\n");
  const MetricsSeries m = read_metrics_jsonl(p.string());
  REQUIRE(m.train_loss.size() == 2);
  CHECK(m.train_loss[0] == std::pair<double, double>{10, 2.5});
  CHECK(m.train_loss[1] == std::pair<double, double>{20, 2.0});
  REQUIRE(m.val_loss.size() == 2);
  CHECK(m.val_loss[1] == std::pair<double, double>{40, 1.9});
  REQUIRE(m.val_accuracy.size() == 1);
  CHECK(m.val_accuracy[0] == std::pair<double, double>{20, 0.25});
}

TEST_CASE("read_metrics_jsonl errors name the file and line") {
  TempDir td;
  const fs::path p = td.path / "bad.jsonl";
  auto message = [&](const std::string& content) -> std::string {
    write_all(p, content);
    try {
      read_metrics_jsonl(p.string());
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::string good = "{\"event\":\"train\",\"step\":1,\"loss\":1}\n";
  std::string msg = message(good + "\n{\"event\":\"train\",\"step\":2,\"loss\":\n" + good);
  CHECK(msg.find(p.string() + ":3:") != std::string::npos);
  msg = message(good + "[1,2]\n");
  CHECK(msg.find(p.string() + ":2:") != std::string::npos);
  msg = message(good + good + "{\"event\":\"eval\",\"val_loss\":1}\n");
  CHECK(msg.find(":3:") != std::string::npos);
  CHECK(msg.find("step") != std::string::npos);
  msg = message("{\"event\":\"train\",\"step\":1,\"loss\":\"high\"}\n");
  CHECK(msg.find(":1:") != std::string::npos);
  CHECK_THROWS_AS(read_metrics_jsonl((td.path / "missing.jsonl").string()), std::runtime_error);
}
