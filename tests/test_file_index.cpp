// tests/test_file_index.cpp: the files read by offset (tensor/file_read.h's
// OpenFile), the line splitter of the line-oriented readers
// (data/line_scan.h), and the ListOps TSV index (data/listops_tsv.h): an index reads
// back exactly the examples the whole-file reader gives, refuses exactly
// what it refuses with the same message, and names the line when the file
// changed after it was indexed; training's ListOps splits come from it.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "data/aan.h"
#include "data/enwik8.h"
#include "data/imdb.h"
#include "data/line_scan.h"
#include "data/listops.h"
#include "data/listops_tsv.h"
#include "tensor/file_read.h"
#include "test_util.h"
#include "train/config.h"
#include "train/metrics.h"
#include "train/task_data.h"

using namespace seqboat;
using doctest::Contains;
using seqboat::testing::TempDir;
using seqboat::testing::write_all;
namespace fs = std::filesystem;

namespace {

// The message of what f throws (std::runtime_error), or "".
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Every row of an index, read back.
std::vector<data::SeqExample> read_all_rows(const data::ListOpsFile& f) {
  std::vector<data::SeqExample> out;
  for (size_t i = 0; i < f.size(); ++i) out.push_back(f.read(i));
  return out;
}

bool same(const std::vector<data::SeqExample>& a, const std::vector<data::SeqExample>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].tokens != b[i].tokens || a[i].label != b[i].label) return false;
  return true;
}

}  // namespace

TEST_CASE("OpenFile: reads by offset, short only at the end; refuses what read_file_limited refuses, and pipes") {
  TempDir dir;
  const std::string p = dir.file("f.bin");
  write_all(p, "0123456789");
  const OpenFile f(p, 100, "test file");
  CHECK(f.size() == 10);
  char buf[8] = {};
  CHECK(f.read_at(3, buf, 4) == 4);
  CHECK(std::string(buf, 4) == "3456");
  CHECK(f.read_at(8, buf, 4) == 2);
  CHECK(std::string(buf, 2) == "89");
  CHECK(f.read_at(20, buf, 4) == 0);
  OpenFile moved(OpenFile(p, 100, "test file"));
  CHECK(moved.read_at(0, buf, 1) == 1);
  CHECK(buf[0] == '0');

  CHECK_THROWS_WITH_AS(OpenFile(p, 9, "test file"), Contains("f.bin: test file is 10 bytes, more than the 9-byte limit"),
                       FileReadError);
  CHECK_THROWS_WITH_AS(OpenFile(dir.file("none"), 100, "test file"), Contains("none: cannot open"), FileReadError);
  CHECK_THROWS_WITH_AS(OpenFile(dir.path.string(), 100, "test file"), Contains("the test file is a directory"),
                       FileReadError);
  CHECK_THROWS_WITH_AS(OpenFile("/dev/zero", 100, "test file"), Contains("the test file is a character device"),
                       FileReadError);
  const std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(OpenFile(fifo, 100, "test file"), Contains("fifo: cannot read: the test file is a pipe"),
                       FileReadError);
}

TEST_CASE("ListOps index: the rows, lengths and labels the whole-file reader gives, across read blocks") {
  TempDir dir;
  const std::string p = dir.file("good.tsv");
  write_all(p,
            "\xEF\xBB\xBFSource\tTarget\r\n"
            "( ( ( [MAX 2 ) 9 ) ] )\t9\n"
            "[MED 1 2 3 4 ]\t2\r\n"
            "[SM 5 7 ]\t 2 \n"
            "[MIN 4 5 ]\t4\n"
            "\n\r\n");
  const data::ListOpsFile f(p);
  const std::vector<data::SeqExample> whole = data::read_listops_tsv(p);
  REQUIRE(f.size() == 4);
  CHECK(same(read_all_rows(f), whole));
  CHECK(same(whole, data::parse_listops_tsv(seqboat::testing::read_all(p), p)));
  CHECK(f.length(0) == 4);  // [MAX 2 9 ]
  CHECK(f.length(1) == 6);
  CHECK(f.label(2) == 2);
  CHECK(f.read(3).tokens == data::tokenize_listops("[MIN 4 5 ]"));
  CHECK_THROWS_AS(f.read(4), std::out_of_range);

  // A file of about 3 MiB without a final newline: rows straddle the 1 MiB
  // blocks the index reads at once.
  std::string big = "Source\tTarget\n";
  int rows = 0;
  while (big.size() < (size_t{3} << 20) + 1000) {
    std::string row = "( [SM";
    for (int k = 0; k < rows % 37; ++k) row += " (";  // dropped by the tokenizer: rows of many lengths
    row += " 3 " + std::to_string(rows % 10) + " ] )\t" + std::to_string((3 + rows % 10) % 10);
    big += row + (rows % 5 ? "\n" : "\r\n");
    ++rows;
  }
  big.pop_back();
  const std::string q = dir.file("big.tsv");
  write_all(q, big);
  const data::ListOpsFile g(q);
  CHECK(g.size() == static_cast<size_t>(rows));
  CHECK(same(read_all_rows(g), data::read_listops_tsv(q)));
  CHECK(same(read_all_rows(g), data::parse_listops_tsv(big, q)));
}

TEST_CASE("ListOps index: a malformed file is refused with the whole-file reader's message; a changed file names the line") {
  TempDir dir;
  const std::vector<std::pair<std::string, const char*>> cases = {
      {"Source\tTarget\n[MAX 1 2 ]\t2\n[MAX 1 2 ] 2\n", "line 3: no tab"},
      {"Source\tTarget\n[MAX 1 2 ]\t12\n", "line 2: bad label"},
      {"Source\tTarget\n[MAX 1 2 ]\t2\n[MAX 1 zz ]\t2\n", "line 3: listops: bad token 'zz'"},
      {"Source\tTarget\n( )\t3\n", "line 2: empty source"},
      {"Source\tTarget\n[MAX 1 2 ]\t2\t3\n", "line 2: more than one tab"},
      {"Source\tTarget\n[MAX 1 2 ]\t2\n\n[MAX 1 2 ]\t2\n", "line 3: empty line"},
      {"Source\tTarget\n[MAX 2 3\t3\n", "line 2: not one well-formed expression"},
      {"source\ttarget\n", "line 1: expected header"},
      {"", "line 1: missing header"},
  };
  for (const auto& [body, needle] : cases) {
    CAPTURE(body);
    const std::string p = dir.file("bad.tsv");
    write_all(p, body);
    const std::string indexed = error_of([&] { data::ListOpsFile f(p); });
    CHECK(indexed.find(needle) != std::string::npos);
    CHECK(indexed.find("bad.tsv") != std::string::npos);
    CHECK(indexed == error_of([&] { data::read_listops_tsv(p); }));
    CHECK(indexed == error_of([&] { data::parse_listops_tsv(body, p); }));
  }
  CHECK_THROWS_WITH_AS(data::ListOpsFile(dir.file("none.tsv")), Contains("listops: "), std::runtime_error);
  CHECK(error_of([&] { data::ListOpsFile f(dir.file("none.tsv")); }) ==
        error_of([&] { data::read_listops_tsv(dir.file("none.tsv")); }));

  const std::string p = dir.file("changing.tsv");
  write_all(p, "Source\tTarget\n[MAX 1 2 ]\t2\n[MIN 3 4 ]\t3\n");
  const data::ListOpsFile f(p);
  write_all(p, "Source\tTarget\n[MAX 1 2 ]\t2\n[MIN 3 5 ]\t4\n");  // same length, another label
  CHECK_THROWS_WITH_AS(f.read(1), Contains("changing.tsv: line 3: not the row indexed"), std::runtime_error);
  write_all(p, "Source\tTarget\n[MAX 1 2 ]\t2\n[MIN 3 ]\t3\n");  // cut short
  CHECK_THROWS_WITH_AS(f.read(1), Contains("changing.tsv: line 3: cannot read it again"), std::runtime_error);
  write_all(p, "Source\tTarget\n[MAX 1 2 ]\t2\n[MIN 3 4 4\t3\n");  // same length, no closing bracket
  CHECK_THROWS_WITH_AS(f.read(1), Contains("changing.tsv: line 3: not one well-formed"), std::runtime_error);
  CHECK(f.read(0).label == 2);
}

TEST_CASE("ListOps training data: released files are indexed, generated data is held as generated, same examples") {
  TempDir dir;
  const fs::path data_dir = dir.path / "released";
  fs::create_directories(data_dir);
  write_all(data_dir / "basic_train.tsv", "Source\tTarget\n[MAX 1 2 ]\t2\n[MIN [SM 3 4 ] 9 ]\t7\n[MED 1 ]\t1\n");
  write_all(data_dir / "basic_val.tsv", "Source\tTarget\n[MAX 5 ]\t5\n");
  write_all(data_dir / "basic_test.tsv", "Source\tTarget\n");
  nlohmann::json cfg = train::resolve_config("listops", "", {"data.dir=" + data_dir.string()});
  const train::TaskData t = train::load_task_data(cfg, dir.file("run"), train::Splits{true, true, false});
  CHECK(t.pending.empty());
  const std::vector<data::SeqExample> whole = data::read_listops_tsv((data_dir / "basic_train.tsv").string());
  REQUIRE(t.train->size() == whole.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    CHECK(t.train->length(i) == static_cast<int64_t>(whole[i].tokens.size()));
    const train::Sample s = t.train->get(i);
    CHECK(s.tokens == whole[i].tokens);
    CHECK(s.label == whole[i].label);
  }
  CHECK(t.val->size() == 1);
  CHECK_THROWS_WITH_AS(train::load_task_data(cfg, dir.file("run"), train::Splits::only("test")),
                       Contains("basic_test.tsv: the test split has no examples"), std::runtime_error);
  // Without data.dir: generated for the run (the files still to write), the same rows as those files hold.
  cfg = train::resolve_config("listops", "", {"listops.n_train=12", "listops.n_val=3", "listops.n_test=3"});
  const train::TaskData g = train::load_task_data(cfg, dir.file("gen"), {});
  REQUIRE(g.pending.size() == 4);
  const std::vector<data::SeqExample> generated = data::parse_listops_tsv(g.pending[0].bytes, g.pending[0].path);
  REQUIRE(g.train->size() == 12);
  for (size_t i = 0; i < 12; ++i) CHECK(g.train->get(i).tokens == generated[i].tokens);
}

namespace {

struct Line {
  std::string text;
  uint64_t offset, number;
  bool operator==(const Line& o) const { return text == o.text && offset == o.offset && number == o.number; }
};

// The lines LineSplitter gives for `text` fed in pieces of `piece` bytes.
std::vector<Line> split_in_pieces(const std::string& text, size_t piece, uint64_t max_line) {
  std::vector<Line> out;
  auto take = [&](std::string_view line, uint64_t offset, uint64_t number) {
    out.push_back(Line{std::string(line), offset, number});
  };
  const std::string path = "t.txt";
  data::LineSplitter<decltype(take)> split(take, path, max_line);
  for (size_t at = 0; at < text.size(); at += piece) split.feed(std::string_view(text).substr(at, piece));
  split.finish();
  return out;
}

}  // namespace

TEST_CASE("LineSplitter: the same lines, offsets and numbers whatever the pieces; a long line is refused") {
  const std::string text = "ab\n\ncdef\r\nlonger line\nx";  // an empty line, a '\r' kept, no final '\n'
  const std::vector<Line> expected = {
      {"ab", 0, 1}, {"", 3, 2}, {"cdef\r", 4, 3}, {"longer line", 10, 4}, {"x", 22, 5}};
  for (size_t piece = 1; piece <= text.size(); ++piece) {
    CAPTURE(piece);
    CHECK(split_in_pieces(text, piece, 11) == expected);
    // 10 bytes: line 4 is refused, whether it lies in one piece or spans several.
    CHECK(error_of([&] { split_in_pieces(text, piece, 10); }) == "t.txt: line 4: longer than 10 bytes");
  }
  CHECK(split_in_pieces("a\n", 1, 5) == std::vector<Line>{{"a", 0, 1}});  // nothing after the final '\n'
  CHECK(split_in_pieces("", 1, 5).empty());
}

TEST_CASE("The data and metrics readers never wait on a FIFO: the indexed ones refuse it, as they refuse a device") {
  TempDir dir;
  const std::string fifo = dir.file("new_aan_pairs.train.tsv");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Without a writer, a plain open of a FIFO blocks forever; these return at once.
  CHECK(error_of([&] { data::AanFile f(fifo); }).find("retrieval: ") == 0);
  CHECK_THROWS_WITH_AS(data::AanFile{fifo}, Contains("the AAN TSV file is a pipe"), std::runtime_error);
  CHECK_THROWS_WITH_AS(data::AanFile{"/dev/zero"}, Contains("the AAN TSV file is a character device"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(data::ByteFile{fifo}, Contains("enwik8: "), std::runtime_error);
  CHECK_THROWS_WITH_AS(data::ByteFile{fifo}, Contains("the enwik8 file is a pipe"), std::runtime_error);
  CHECK_THROWS_WITH_AS(data::read_text_prefix(fifo, 10), Contains("text: "), std::runtime_error);
  CHECK_THROWS_WITH_AS(data::read_text_prefix(fifo, 10), Contains("the review file is a pipe"), std::runtime_error);
  // metrics.jsonl is read whole (read_file_limited), so a pipe is read to its
  // end: with no writer, that is at once, and there are no metrics.
  const train::MetricsSeries m = train::read_metrics_jsonl(fifo);
  CHECK(m.train_loss.empty());
  CHECK(m.val_loss.empty());
  CHECK_THROWS_WITH_AS(train::read_metrics_jsonl("/dev/zero"), Contains("the metrics file is a character device"),
                       std::runtime_error);
  // A line over the AAN limit (64 MiB) names its line, read from a real file.
  const std::string big = dir.file("big.tsv");
  write_all(big, "1\ta\tb\tx\ty\n" + std::string((size_t{64} << 20) + 1, 'z') + "\n");
  CHECK(error_of([&] { data::AanFile f(big); }) == big + ": line 2: longer than 67108864 bytes");
  // And the readers still read what they read before.
  write_all(dir.file("review.txt"), "a short review");
  CHECK(data::read_text_prefix(dir.file("review.txt"), 7) == "a short");
  CHECK(data::read_text_prefix(dir.file("review.txt"), 100) == "a short review");
  const data::ByteFile bytes(dir.file("review.txt"));
  uint8_t got[5] = {};
  bytes.read(2, 5, got);
  CHECK(std::string(reinterpret_cast<const char*>(got), 5) == "short");
  CHECK_THROWS_WITH_AS(bytes.read(10, 5, got), Contains("outside the file (14 bytes)"), std::runtime_error);
}
