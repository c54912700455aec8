// Tests for the dataset layer: ListOps tokenizer/evaluator/TSV reader and
// generator, associative recall, and the byte corpus.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/bytes_corpus.h"
#include "data/listops.h"
#include "data/listops_tsv.h"
#include "data/recall.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using namespace seqboat::data;

using seqboat::testing::TempDir;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// The message of the std::runtime_error thrown by read_listops_tsv, or "".
std::string read_error(const std::string& path) {
  try {
    read_listops_tsv(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::vector<int32_t> ids(std::initializer_list<int32_t> v) { return std::vector<int32_t>(v); }

}  // namespace

TEST_CASE("data: listops tokenizer, plain and parenthesised forms") {
  const auto plain = tokenize_listops("[MAX 2 9 ]");
  CHECK(plain == ids({kListOpsMax, 3, 10, kListOpsClose}));
  CHECK(tokenize_listops("( ( ( [MAX 2 ) 9 ) ] )") == plain);
  CHECK(tokenize_listops("  [MIN\t0  [SM 5 7 ]\r\n]") ==
        ids({kListOpsMin, 1, kListOpsSm, 6, 8, kListOpsClose, kListOpsClose}));
  CHECK(tokenize_listops("[MED 1 ]")[0] == kListOpsMed);
  CHECK(tokenize_listops("").empty());
  CHECK(tokenize_listops("( )").empty());
  for (int d = 0; d <= 9; ++d) CHECK(tokenize_listops(std::to_string(d)) == ids({1 + d}));

  for (const char* bad : {"[MAX 2 10 ]", "[max 2 ]", "[MAX 2 ))", "[AVG 1 2 ]", "[MAX 2 x ]", "[MAX2 ]"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(tokenize_listops(bad), std::invalid_argument);
  }
  try {
    tokenize_listops("( [MAX 2 foo ] )");
    FAIL("expected an exception");
  } catch (const std::invalid_argument& e) {
    CHECK(contains(e.what(), "'foo'"));
  }
}

TEST_CASE("data: listops token names") {
  CHECK(listops_token_name(0) == "<pad>");
  CHECK(listops_token_name(1) == "0");
  CHECK(listops_token_name(10) == "9");
  CHECK(listops_token_name(11) == "[MIN");
  CHECK(listops_token_name(12) == "[MAX");
  CHECK(listops_token_name(13) == "[MED");
  CHECK(listops_token_name(14) == "[SM");
  CHECK(listops_token_name(15) == "]");
  CHECK(listops_token_name(16) == "<unk:16>");
  CHECK(listops_token_name(-1) == "<unk:-1>");
  const std::string s = "[MIN 3 [MED 1 2 ] 9 ]";
  CHECK(listops_detokenize(tokenize_listops(s)) == s);
}

TEST_CASE("data: listops evaluation of hand-made expressions") {
  auto ev = [](const std::string& s) { return eval_listops(tokenize_listops(s)); };
  CHECK(ev("[MED 1 2 3 4 ]") == 2);
  CHECK(ev("[MED 4 3 2 1 ]") == 2);
  CHECK(ev("[MED 1 2 ]") == 1);
  CHECK(ev("[MED 9 8 ]") == 8);
  CHECK(ev("[MED 5 1 9 ]") == 5);
  CHECK(ev("[SM 5 7 ]") == 2);
  CHECK(ev("[SM 9 9 9 9 ]") == 6);
  CHECK(ev("[MIN 7 3 8 ]") == 3);
  CHECK(ev("[MAX 7 3 8 ]") == 8);
  CHECK(ev("4") == 4);
  CHECK(ev("[MAX 2 [MIN 8 9 ] [SM 5 7 ] ]") == 8);
  CHECK(ev("( ( ( [MAX 2 ) ( ( ( [MIN 8 ) 9 ) ] ) ) ] )") == 8);
  CHECK(ev("[MED [SM 5 6 ] [MAX 0 3 ] 7 [MIN 9 [MED 6 8 ] ] ]") == 5);  // 1,3,7,7 -> 5

  for (const char* bad : {"", "[MAX 1 2", "[MAX 1 2 ] ]", "1 2", "[MAX ]", "]", "[SM 1 ] 3"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(ev(bad), std::invalid_argument);
  }
  CHECK_THROWS_AS(eval_listops(ids({kListOpsMax, kListOpsPad, 3, kListOpsClose})), std::invalid_argument);
}

TEST_CASE("data: listops argument shuffling keeps value, length and nesting, and reaches every order") {
  seqboat::Generator rng(3);
  // Every order of a flat operator's arguments appears, and nothing else.
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i)
    seen.insert(listops_detokenize(listops_shuffle_arguments(tokenize_listops("[MAX 1 2 3 ]"), rng)));
  CHECK(seen == std::set<std::string>{"[MAX 1 2 3 ]", "[MAX 1 3 2 ]", "[MAX 2 1 3 ]", "[MAX 2 3 1 ]", "[MAX 3 1 2 ]",
                                      "[MAX 3 2 1 ]"});
  // Nested: sub-expressions move as wholes and are shuffled inside.
  seen.clear();
  for (int i = 0; i < 200; ++i)
    seen.insert(listops_detokenize(listops_shuffle_arguments(tokenize_listops("[SM [MIN 4 5 ] 7 ]"), rng)));
  CHECK(seen ==
        std::set<std::string>{"[SM [MIN 4 5 ] 7 ]", "[SM [MIN 5 4 ] 7 ]", "[SM 7 [MIN 4 5 ] ]", "[SM 7 [MIN 5 4 ] ]"});
  // Generated trees of dataset length (> 32 tokens): the label, the length
  // and the token counts are kept, and the order changes (such a tree has
  // several operators; the chance that all of them keep their order is tiny).
  std::mt19937_64 tree_rng(8);
  int n = 0, changed = 0;
  while (n < 300) {
    std::vector<int32_t> t = listops_to_tokens(sample_listops_tree(tree_rng, 4, 5));
    if (t.size() <= 32) continue;
    ++n;
    std::vector<int32_t> u = listops_shuffle_arguments(t, rng);
    CHECK(eval_listops(u) == eval_listops(t));
    REQUIRE(u.size() == t.size());
    changed += u != t;
    std::sort(t.begin(), t.end());
    std::sort(u.begin(), u.end());
    CHECK(u == t);
  }
  CHECK(changed >= 290);
  for (const char* bad : {"[MAX 1 2", "[MAX 1 2 ] ]", "1 2", "[MAX ]", "]"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(listops_shuffle_arguments(tokenize_listops(bad), rng), std::invalid_argument);
  }
  CHECK_THROWS_AS(listops_shuffle_arguments({}, rng), std::invalid_argument);
}

TEST_CASE("data: listops tree text forms round-trip") {
  ListOpsNode two{kListOpsDigit0 + 2, {}};
  ListOpsNode nine{kListOpsDigit0 + 9, {}};
  ListOpsNode max{kListOpsMax, {two, nine}};
  CHECK(listops_to_text(max) == "( ( ( [MAX 2 ) 9 ) ] )");
  CHECK(listops_to_text(max, false) == "[MAX 2 9 ]");
  CHECK(listops_length(max) == 4);
  CHECK(eval_listops(max) == 9);
  ListOpsNode outer{kListOpsSm, {max, two, max}};
  CHECK(listops_to_text(outer, false) == "[SM [MAX 2 9 ] 2 [MAX 2 9 ] ]");
  CHECK(listops_to_text(outer) == "( ( ( ( [SM ( ( ( [MAX 2 ) 9 ) ] ) ) 2 ) ( ( ( [MAX 2 ) 9 ) ] ) ) ] )");
  CHECK(eval_listops(outer) == 0);
  CHECK(listops_length(outer) == 11);
  CHECK(tokenize_listops(listops_to_text(outer)) == listops_to_tokens(outer));
  CHECK(listops_to_tokens(outer).size() == 11u);
  CHECK_THROWS_AS(listops_to_text(ListOpsNode{kListOpsMax, {}}), std::invalid_argument);
}

TEST_CASE("data: listops TSV reader, good files") {
  TempDir dir;
  const std::string p = dir.file("good.tsv");
  write_text(p,
             "Source\tTarget\n"
             "( ( ( [MAX 2 ) 9 ) ] )\t9\n"
             "[MED 1 2 3 4 ]\t2\r\n"
             "[SM 5 7 ]\t 2 \n"
             "\n");
  const auto ex = read_listops_tsv(p);
  REQUIRE(ex.size() == 3);
  CHECK(ex[0].tokens == ids({kListOpsMax, 3, 10, kListOpsClose}));
  CHECK(ex[0].label == 9);
  CHECK(ex[1].tokens == tokenize_listops("[MED 1 2 3 4 ]"));
  CHECK(ex[1].label == 2);
  CHECK(ex[2].label == 2);

  const std::string h = dir.file("header_only.tsv");
  write_text(h, "Source\tTarget\r\n");
  CHECK(read_listops_tsv(h).empty());

  const std::string nonl = dir.file("no_final_newline.tsv");
  write_text(nonl, "Source\tTarget\n[MIN 4 5 ]\t4");
  REQUIRE(read_listops_tsv(nonl).size() == 1);
}

TEST_CASE("data: listops TSV reader, malformed lines name file and line") {
  TempDir dir;
  struct Case {
    const char* name;
    std::string body;
    int line;
    const char* problem;
  };
  const std::vector<Case> cases = {
      {"no_tab.tsv", "Source\tTarget\n[MAX 1 2 ]\t2\n[MAX 1 2 ] 2\n", 3, "no tab"},
      {"bad_label.tsv", "Source\tTarget\n[MAX 1 2 ]\t12\n", 2, "bad label"},
      {"neg_label.tsv", "Source\tTarget\n[MAX 1 2 ]\t-1\n", 2, "bad label"},
      {"empty_label.tsv", "Source\tTarget\n[MAX 1 2 ]\t\n", 2, "bad label"},
      {"bad_token.tsv", "Source\tTarget\n[MAX 1 2 ]\t2\n[MAX 1 2 ]\t2\n[MAX 1 zz ]\t2\n", 4, "'zz'"},
      {"empty_source.tsv", "Source\tTarget\n\t3\n", 2, "empty source"},
      {"paren_only.tsv", "Source\tTarget\n( )\t3\n", 2, "empty source"},
      {"two_tabs.tsv", "Source\tTarget\n[MAX 1 2 ]\t2\t3\n", 2, "tab"},
      {"mid_empty.tsv", "Source\tTarget\n[MAX 1 2 ]\t2\n\n[MAX 1 2 ]\t2\n", 3, "empty line"},
      {"bad_header.tsv", "source\ttarget\n[MAX 1 2 ]\t2\n", 1, "header"},
      {"no_header.tsv", "[MAX 1 2 ]\t2\n", 1, "header"},
      {"empty_file.tsv", "", 1, "header"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const std::string p = dir.file(c.name);
    write_text(p, c.body);
    const std::string msg = read_error(p);
    CAPTURE(msg);
    CHECK(contains(msg, c.name));
    CHECK(contains(msg, "line " + std::to_string(c.line)));
    CHECK(contains(msg, c.problem));
  }
  const std::string missing = dir.file("does_not_exist.tsv");
  const std::string msg = read_error(missing);
  CHECK(contains(msg, missing));
}

TEST_CASE("data: listops generator") {
  ListOpsGenConfig cfg;
  cfg.n_train = 600;
  cfg.n_val = 80;
  cfg.n_test = 80;
  cfg.seed = 12345;
  const ListOpsSplits a = generate_listops(cfg);
  const ListOpsSplits b = generate_listops(cfg);

  SUBCASE("sizes and determinism") {
    CHECK(a.train.size() == 600u);
    CHECK(a.val.size() == 80u);
    CHECK(a.test.size() == 80u);
    auto same = [](const std::vector<ListOpsRecord>& x, const std::vector<ListOpsRecord>& y) {
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (x[i].source != y[i].source || x[i].label != y[i].label) return false;
      return true;
    };
    CHECK(same(a.train, b.train));
    CHECK(same(a.val, b.val));
    CHECK(same(a.test, b.test));
    ListOpsGenConfig other = cfg;
    other.seed = 54321;
    CHECK_FALSE(same(generate_listops(other).train, a.train));
  }

  SUBCASE("lengths, labels, no duplicates") {
    std::set<std::string> seen;
    size_t total = 0;
    for (const auto* split : {&a.train, &a.val, &a.test}) {
      for (const auto& r : *split) {
        ++total;
        seen.insert(r.source);
        const auto tok = tokenize_listops(r.source);
        CHECK(static_cast<int>(tok.size()) > cfg.min_length);
        CHECK(static_cast<int>(tok.size()) < cfg.max_length);
        CHECK(r.label == eval_listops(tok));
        CHECK(r.source.front() == '(');  // LRA parenthesised form
      }
    }
    CHECK(seen.size() == total);
  }

  SUBCASE("sampled trees respect depth and argument bounds") {
    std::mt19937_64 rng(7);
    int max_seen_depth = 0;
    std::function<int(const ListOpsNode&)> depth = [&](const ListOpsNode& n) {
      int d = 0;
      for (const auto& c : n.args) {
        CHECK(n.args.size() >= 2u);
        CHECK(n.args.size() <= 3u);
        d = std::max(d, depth(c));
      }
      return d + 1;
    };
    for (int i = 0; i < 2000; ++i) max_seen_depth = std::max(max_seen_depth, depth(sample_listops_tree(rng, 3, 3)));
    CHECK(max_seen_depth == 3);
  }

  SUBCASE("files re-read equal what was generated") {
    TempDir dir;
    const std::string sub = (dir.path / "nested" / "listops").string();
    write_listops_splits(sub, cfg);
    const char* names[] = {"basic_train.tsv", "basic_val.tsv", "basic_test.tsv"};
    const std::vector<ListOpsRecord>* splits[] = {&a.train, &a.val, &a.test};
    for (int s = 0; s < 3; ++s) {
      CAPTURE(names[s]);
      const std::string path = (fs::path(sub) / names[s]).string();
      CHECK_FALSE(fs::exists(path + ".tmp"));
      std::ifstream in(path);
      std::string header;
      std::getline(in, header);
      CHECK(header == "Source\tTarget");
      const auto rows = read_listops_tsv(path);
      REQUIRE(rows.size() == splits[s]->size());
      for (size_t i = 0; i < rows.size(); ++i) {
        CHECK(rows[i].tokens == tokenize_listops((*splits[s])[i].source));
        CHECK(rows[i].label == (*splits[s])[i].label);
      }
    }
  }

  SUBCASE("impossible configs are rejected") {
    ListOpsGenConfig bad = cfg;
    bad.max_depth = 2;
    bad.max_args = 3;  // longest tree: 2 + 3 = 5
    CHECK_THROWS_AS(generate_listops(bad), std::invalid_argument);
    bad = cfg;
    bad.max_args = 1;
    CHECK_THROWS_AS(generate_listops(bad), std::invalid_argument);
    bad = cfg;
    bad.min_length = 50;
    bad.max_length = 51;
    CHECK_THROWS_AS(generate_listops(bad), std::invalid_argument);
  }
}

TEST_CASE("data: associative recall") {
  RecallConfig cfg;
  cfg.n_pairs = 6;
  cfg.n_keys = 10;
  cfg.n_values = 5;
  cfg.seed = 3;
  CHECK(recall_vocab(cfg) == 2 + 10 + 5);
  CHECK(recall_seq_len(cfg) == 14);
  const auto ex = make_recall(cfg, 500, 11);
  REQUIRE(ex.size() == 500u);
  const int32_t vbase = recall_value_base(cfg);
  std::vector<int> label_count(5, 0);
  for (const auto& e : ex) {
    REQUIRE(e.tokens.size() == 14u);
    std::set<int32_t> keys;
    int found = -1;
    const int32_t q = e.tokens[13];
    CHECK(e.tokens[12] == kRecallSep);
    for (int i = 0; i < cfg.n_pairs; ++i) {
      const int32_t k = e.tokens[2 * i], v = e.tokens[2 * i + 1];
      CHECK(k >= kRecallKeyBase);
      CHECK(k < kRecallKeyBase + cfg.n_keys);
      CHECK(v >= vbase);
      CHECK(v < vbase + cfg.n_values);
      keys.insert(k);
      if (k == q) found = v - vbase;
    }
    CHECK(keys.size() == static_cast<size_t>(cfg.n_pairs));
    CHECK(found == e.label);
    REQUIRE(e.label >= 0);
    REQUIRE(e.label < 5);
    ++label_count[e.label];
  }
  for (int c : label_count) CHECK(c > 0);

  // Determinism, and different streams for different seeds.
  const auto again = make_recall(cfg, 500, 11);
  const auto other = make_recall(cfg, 500, 12);
  bool all_same = true, all_same_other = true;
  for (size_t i = 0; i < ex.size(); ++i) {
    all_same = all_same && ex[i].tokens == again[i].tokens && ex[i].label == again[i].label;
    all_same_other = all_same_other && ex[i].tokens == other[i].tokens;
  }
  CHECK(all_same);
  CHECK_FALSE(all_same_other);

  // Explicit seq_len pads at the end.
  RecallConfig padded = cfg;
  padded.seq_len = 20;
  const auto p = make_recall(padded, 3, 1);
  for (const auto& e : p) {
    REQUIRE(e.tokens.size() == 20u);
    for (int i = 14; i < 20; ++i) CHECK(e.tokens[i] == kRecallPad);
  }

  RecallConfig bad = cfg;
  bad.n_keys = 5;  // fewer keys than pairs
  CHECK_THROWS_AS(make_recall(bad, 1, 1), std::invalid_argument);
  bad = cfg;
  bad.seq_len = 10;
  CHECK_THROWS_AS(make_recall(bad, 1, 1), std::invalid_argument);
}

TEST_CASE("data: byte corpus") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 300; ++i) text += static_cast<char>('a' + i % 26);
  write_text(dir.file("a.txt"), text.substr(0, 100));
  write_text(dir.file("b.txt"), text.substr(100));
  const auto corpus = ByteCorpus::from_files({dir.file("a.txt"), dir.file("b.txt")});
  REQUIRE(corpus.size() == 300u);
  CHECK(std::equal(corpus.bytes().begin(), corpus.bytes().end(), text.begin()));

  SUBCASE("sample_batch shapes, shift and determinism") {
    std::vector<int32_t> in, tg, in2, tg2;
    uint64_t st = 42;
    corpus.sample_batch(4, 16, st, in, tg);
    CHECK(st != 42u);
    REQUIRE(in.size() == 64u);
    REQUIRE(tg.size() == 64u);
    for (int b = 0; b < 4; ++b) {
      for (int t = 0; t + 1 < 16; ++t) CHECK(tg[b * 16 + t] == in[b * 16 + t + 1]);
      // each row is a contiguous window of the corpus
      const auto& bytes = corpus.bytes();
      const auto it = std::search(bytes.begin(), bytes.end(), in.begin() + b * 16, in.begin() + b * 16 + 16,
                                  [](uint8_t x, int32_t y) { return x == y; });
      REQUIRE(it != bytes.end());
      const size_t s = static_cast<size_t>(it - bytes.begin());
      CHECK(tg[b * 16 + 15] == bytes[s + 16]);
    }
    uint64_t st2 = 42;
    corpus.sample_batch(4, 16, st2, in2, tg2);
    CHECK(in == in2);
    CHECK(tg == tg2);
    CHECK(st == st2);
    // Resuming from a saved state continues the same stream.
    uint64_t saved = st;
    corpus.sample_batch(4, 16, st, in, tg);
    corpus.sample_batch(4, 16, saved, in2, tg2);
    CHECK(in == in2);
    // Largest window: seq_len = size - 1 has exactly one start.
    corpus.sample_batch(2, 299, st, in, tg);
    CHECK(in[0] == 'a');
    CHECK(tg[298] == static_cast<uint8_t>(text[299]));
  }

  SUBCASE("split keeps the tail as validation") {
    const auto parts = corpus.split(0.1);
    CHECK(parts.first.size() == 270u);
    CHECK(parts.second.size() == 30u);
    CHECK(parts.second.bytes().front() == static_cast<uint8_t>(text[270]));
    CHECK_THROWS_AS(corpus.split(0.0), std::invalid_argument);
    CHECK_THROWS_AS(corpus.split(1.0), std::invalid_argument);
  }

  SUBCASE("errors") {
    std::vector<int32_t> in, tg;
    uint64_t st = 1;
    try {
      corpus.sample_batch(1, 300, st, in, tg);
      FAIL("expected an exception");
    } catch (const std::invalid_argument& e) {
      CHECK(contains(e.what(), "seq_len"));
    }
    CHECK_THROWS_AS(corpus.sample_batch(0, 8, st, in, tg), std::invalid_argument);
    const std::string missing = dir.file("nope.txt");
    try {
      ByteCorpus::from_files({missing});
      FAIL("expected an exception");
    } catch (const std::runtime_error& e) {
      CHECK(contains(e.what(), missing));
    }
    write_text(dir.file("empty.txt"), "");
    try {
      ByteCorpus::from_files({dir.file("empty.txt")});
      FAIL("expected an exception");
    } catch (const std::runtime_error& e) {
      CHECK(contains(e.what(), "empty corpus"));
    }
    CHECK_THROWS_AS(ByteCorpus::from_bytes({}), std::invalid_argument);
  }

  SUBCASE("source tree: extensions, skipped dirs, sorted order") {
    const fs::path root = dir.path / "tree";
    fs::create_directories(root / "src" / "sub");
    fs::create_directories(root / "build" / "x");
    fs::create_directories(root / "build-debug");
    fs::create_directories(root / ".git");
    write_text((root / "b.md").string(), "B");
    write_text((root / "a.cpp").string(), "A");
    write_text((root / "src" / "c.h").string(), "C");
    write_text((root / "src" / "sub" / "d.cu").string(), "D");
    write_text((root / "src" / "e.json").string(), "E");
    write_text((root / "src" / "f.txt").string(), "F");
    write_text((root / "src" / "skip.py").string(), "X");
    write_text((root / "build" / "x" / "g.cpp").string(), "X");
    write_text((root / "build-debug" / "h.h").string(), "X");
    write_text((root / ".git" / "i.txt").string(), "X");
    const auto c = ByteCorpus::from_source_tree(root.string());
    const std::string got(c.bytes().begin(), c.bytes().end());
    // sorted paths: a.cpp b.md src/c.h src/e.json src/f.txt src/sub/d.cu
    CHECK(got == "ABCEFD");
    CHECK_THROWS_AS(ByteCorpus::from_source_tree((dir.path / "no_such_dir").string()), std::runtime_error);
  }
}
