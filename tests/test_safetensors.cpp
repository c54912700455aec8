// Tests for the standalone safetensors reader/writer: round trips, atomic
// writes, one case per validation failure, a golden file and truncations.
#include "tensor/safetensors.h"

#include <doctest/doctest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.h"

using namespace seqboat;
namespace fs = std::filesystem;
using doctest::Contains;

namespace {

// A file laid out by hand: declared header size, header text, data bytes.
std::vector<uint8_t> raw_file(uint64_t header_size, const std::string& header, size_t data_size) {
  std::vector<uint8_t> bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(header_size >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + data_size, 0xAB);
  return bytes;
}
std::vector<uint8_t> raw_file(const std::string& header, size_t data_size = 0) {
  return raw_file(header.size(), header, data_size);
}
StFile parse(const std::vector<uint8_t>& bytes) { return parse_safetensors(bytes, "foo.safetensors"); }

// One tensor "x" with the given JSON fields inside its entry.
std::vector<uint8_t> one_tensor(const std::string& fields, size_t data_size) {
  return raw_file("{\"x\": {" + fields + "}}", data_size);
}

template <typename T>
std::vector<uint8_t> to_bytes(const std::vector<T>& values) {  // host is little-endian
  std::vector<uint8_t> out(values.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

StTensor make(StDtype dtype, std::vector<int64_t> shape, std::vector<uint8_t> data) {
  return StTensor{dtype, std::move(shape), std::move(data)};
}

void check_same(const StFile& a, const StFile& b) {
  CHECK(a.metadata == b.metadata);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name_, t] : a.tensors) {
    const std::string& name = name_;  // INFO captures it in a lambda: no structured binding
    INFO("tensor ", name);
    REQUIRE(b.tensors.count(name) == 1);
    const StTensor& u = b.tensors.at(name);
    CHECK(t.dtype == u.dtype);
    CHECK(t.shape == u.shape);
    CHECK(t.data == u.data);
  }
}

// Every dtype, a 0-d tensor, zero-element tensors and metadata.
StFile sample_file() {
  StFile f;
  f.tensors["f32"] = make(StDtype::F32, {2, 3}, to_bytes<float>({1.5f, -2, 3, 4, 5, 6.25f}));
  f.tensors["f64"] = make(StDtype::F64, {3}, to_bytes<double>({0.1, -1e300, 42}));
  f.tensors["i64"] = make(StDtype::I64, {2, 1, 2}, to_bytes<int64_t>({-1, 0, 1, INT64_MAX}));
  f.tensors["u8"] = make(StDtype::U8, {4}, {0, 1, 128, 255});
  f.tensors["bool"] = make(StDtype::BOOL, {2}, {1, 0});
  f.tensors["scalar"] = make(StDtype::F64, {}, to_bytes<double>({3.25}));
  f.tensors["empty"] = make(StDtype::I64, {0, 3}, {});
  f.tensors["empty_f32"] = make(StDtype::F32, {4, 0}, {});
  f.metadata = {{"format", "test/1"}, {"note", "unicode: \xc3\xa9t\xc3\xa9"}, {"blank", ""}};
  return f;
}

using seqboat::testing::TempDir;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("safetensors: dtype names and sizes") {
  CHECK(st_dtype_size(StDtype::F32) == 4);
  CHECK(st_dtype_size(StDtype::F64) == 8);
  CHECK(st_dtype_size(StDtype::I64) == 8);
  CHECK(st_dtype_size(StDtype::U8) == 1);
  CHECK(st_dtype_size(StDtype::BOOL) == 1);
  for (StDtype d : {StDtype::F32, StDtype::F64, StDtype::I64, StDtype::U8, StDtype::BOOL})
    CHECK(st_dtype_from_name(st_dtype_name(d)) == d);
  CHECK_THROWS_WITH_AS(st_dtype_from_name("f32"), Contains("unknown dtype 'f32'"), SafetensorsError);
}

TEST_CASE("safetensors: in-memory round trip of all dtypes, 0-d and empty tensors, metadata") {
  const StFile f = sample_file();
  const std::vector<uint8_t> bytes = serialize_safetensors(f);
  check_same(f, parse(bytes));
  CHECK(parse(bytes).tensors.at("scalar").data.size() == 8);  // 0-d = one element

  // Layout: header size is a multiple of 8, tensors packed in name order.
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  CHECK(n % 8 == 0);
  CHECK(bytes.size() == 8 + n + 24 + 24 + 32 + 4 + 2 + 8);
  const auto header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + n);
  uint64_t expected_begin = 0;
  for (const auto& [name_, t] : f.tensors) {
    const std::string& name = name_;  // INFO captures it in a lambda: no structured binding
    INFO("tensor ", name);
    CHECK(header[name]["data_offsets"][0].get<uint64_t>() == expected_begin);
    expected_begin += t.data.size();
    CHECK(header[name]["data_offsets"][1].get<uint64_t>() == expected_begin);
  }
  CHECK(header["__metadata__"]["format"] == "test/1");

  // A file with neither tensors nor metadata also round-trips.
  CHECK(parse(serialize_safetensors(StFile{})).tensors.empty());
}

TEST_CASE("safetensors: file round trip") {
  TempDir dir;
  const std::string path = (dir.path / "a.safetensors").string();
  const StFile f = sample_file();
  write_safetensors(path, f);
  check_same(f, read_safetensors(path));
  CHECK(read_bytes(path) == serialize_safetensors(f));
}

TEST_CASE("safetensors: write replaces the file atomically and leaves no temp file") {
  TempDir dir;
  const std::string path = (dir.path / "model.safetensors").string();
  StFile big = sample_file();
  big.tensors["large"] = make(StDtype::U8, {100000}, std::vector<uint8_t>(100000, 7));
  write_safetensors(path, big);
  check_same(big, read_safetensors(path));

  // Rewriting with a smaller file must not leave stale bytes of the old one.
  StFile small;
  small.tensors["only"] = make(StDtype::F64, {1}, to_bytes<double>({9.0}));
  write_safetensors(path, small);
  check_same(small, read_safetensors(path));
  CHECK(read_bytes(path) == serialize_safetensors(small));
  CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});

  // A file the serializer rejects never touches the existing one.
  StFile bad;
  bad.tensors["x"] = make(StDtype::F32, {3}, {1, 2, 3});
  CHECK_THROWS_WITH_AS(write_safetensors(path, bad),
                       Contains("model.safetensors: tensor 'x' has 3 data bytes but shape [3] of dtype F32 needs 12"),
                       SafetensorsError);
  StFile reserved;
  reserved.tensors["__metadata__"] = make(StDtype::U8, {}, {1});
  CHECK_THROWS_WITH_AS(write_safetensors(path, reserved), Contains("reserved"), SafetensorsError);
  check_same(small, read_safetensors(path));
  CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});

  // A directory in the way is refused before anything is written: no
  // temporary file is left.
  const fs::path occupied = dir.path / "occupied.safetensors";
  fs::create_directories(occupied / "child");
  CHECK_THROWS_WITH_AS(write_safetensors(occupied.string(), small), Contains("cannot write: it is a directory"),
                       SafetensorsError);
  fs::remove_all(occupied);
  CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});

  // Unwritable location: error names the path and the OS reason.
  const std::string nowhere = (dir.path / "missing_dir" / "x.safetensors").string();
  CHECK_THROWS_WITH_AS(write_safetensors(nowhere, small), Contains("No such file or directory"), SafetensorsError);
  CHECK_THROWS_WITH_AS(write_safetensors(nowhere, small), Contains(nowhere.c_str()), SafetensorsError);
}

TEST_CASE("safetensors: missing or unreadable file names the path and the OS error") {
  TempDir dir;
  const std::string missing = (dir.path / "nope.safetensors").string();
  CHECK_THROWS_WITH_AS(read_safetensors(missing),
                       Contains((missing + ": cannot open: No such file or directory").c_str()), SafetensorsError);
  const std::string directory = dir.path.string();
  CHECK_THROWS_WITH_AS(read_safetensors(directory), Contains((directory + ": cannot read: the safetensors file is a directory").c_str()),
                       SafetensorsError);
}

TEST_CASE("safetensors: file shorter than 8 bytes") {
  CHECK_THROWS_WITH_AS(parse({}), Contains("foo.safetensors: file is too short (0 bytes)"), SafetensorsError);
  CHECK_THROWS_WITH_AS(parse({1, 0, 0, 0, 0, 0, 0}), Contains("foo.safetensors: file is too short (7 bytes)"),
                       SafetensorsError);
}

TEST_CASE("safetensors: header size over the 100 MB limit") {
  CHECK_THROWS_WITH_AS(parse(raw_file(100'000'001, "{}", 0)),
                       Contains("foo.safetensors: header size 100000001 exceeds the 100 MB limit"), SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(raw_file(UINT64_MAX, "{}", 0)), Contains("exceeds the 100 MB limit"), SafetensorsError);
}

TEST_CASE("safetensors: header size larger than the file") {
  CHECK_THROWS_WITH_AS(parse(raw_file(100, "{}", 10)),
                       Contains("foo.safetensors: header size 100 is larger than the 12 bytes that follow it"),
                       SafetensorsError);
}

TEST_CASE("safetensors: malformed JSON header") {
  const auto bytes = raw_file("{\"x\": {\"dtype\": ");
  CHECK_THROWS_WITH_AS(parse(bytes), Contains("foo.safetensors: malformed JSON header"), SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(bytes), Contains("parse error"), SafetensorsError);  // the parser's own words
  CHECK_THROWS_WITH_AS(parse(raw_file("")), Contains("malformed JSON header"), SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(raw_file("{\"a\": \"\xff\"}")), Contains("malformed JSON header"), SafetensorsError);
}

TEST_CASE("safetensors: header is not a JSON object") {
  CHECK_THROWS_WITH_AS(parse(raw_file("[1, 2]")), Contains("foo.safetensors: header is not a JSON object (got array)"),
                       SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(raw_file("42      ")), Contains("header is not a JSON object (got number)"),
                       SafetensorsError);
}

TEST_CASE("safetensors: tensor entry missing dtype, shape or data_offsets") {
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("shape": [1], "data_offsets": [0, 1])", 1)),
                       Contains("foo.safetensors: tensor 'x' is missing 'dtype'"), SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "U8", "data_offsets": [0, 1])", 1)),
                       Contains("foo.safetensors: tensor 'x' is missing 'shape'"), SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "U8", "shape": [1])", 1)),
                       Contains("foo.safetensors: tensor 'x' is missing 'data_offsets'"), SafetensorsError);
}

TEST_CASE("safetensors: tensor entry with wrong JSON types") {
  CHECK_THROWS_WITH_AS(parse(raw_file(R"({"x": [1]})")),
                       Contains("foo.safetensors: tensor 'x' entry must be a JSON object (got array)"),
                       SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": 8, "shape": [1], "data_offsets": [0, 8])", 8)),
                       Contains("tensor 'x' dtype must be a string (got number)"), SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "U8", "shape": "1", "data_offsets": [0, 1])", 1)),
                       Contains("tensor 'x' shape must be an array of integers (got string)"), SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "U8", "shape": [1.0], "data_offsets": [0, 1])", 1)),
                       Contains("tensor 'x' shape must be an array of 64-bit integers"), SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "U8", "shape": [9223372036854775808], "data_offsets": [0, 1])", 1)),
                       Contains("tensor 'x' shape must be an array of 64-bit integers"), SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "U8", "shape": [1], "data_offsets": [0, 1, 2])", 2)),
                       Contains("tensor 'x' data_offsets must be two non-negative integers (got an array of 3 element(s))"),
                       SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "U8", "shape": [1], "data_offsets": [-1, 0])", 1)),
                       Contains("tensor 'x' data_offsets must be two non-negative integers"), SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "U8", "shape": [1], "data_offsets": {"a": 1})", 1)),
                       Contains("tensor 'x' data_offsets must be two non-negative integers"), SafetensorsError);
}

TEST_CASE("safetensors: unknown dtype is named along with the known ones") {
  CHECK_THROWS_WITH_AS(
      parse(one_tensor(R"("dtype": "BF16", "shape": [1], "data_offsets": [0, 2])", 2)),
      Contains("foo.safetensors: tensor 'x' has unknown dtype 'BF16' (known: F32, F64, I64, U8, BOOL)"),
      SafetensorsError);
}

TEST_CASE("safetensors: negative shape dimension") {
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "F32", "shape": [2, -3], "data_offsets": [0, 0])", 0)),
                       Contains("foo.safetensors: tensor 'x' has negative dimension -3 in shape [2, -3]"),
                       SafetensorsError);
}

TEST_CASE("safetensors: data_offsets with end before begin") {
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "U8", "shape": [0], "data_offsets": [8, 4])", 16)),
                       Contains("foo.safetensors: tensor 'x' data_offsets [8, 4] have end before begin"),
                       SafetensorsError);
}

TEST_CASE("safetensors: data_offsets outside the data buffer") {
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "F64", "shape": [5], "data_offsets": [0, 40])", 32)),
                       Contains("foo.safetensors: tensor 'x' data_offsets [0, 40] exceed the data buffer size 32"),
                       SafetensorsError);
  CHECK_THROWS_WITH_AS(
      parse(one_tensor(R"("dtype": "U8", "shape": [1], "data_offsets": [18446744073709551615, 18446744073709551615])",
                       4)),
      Contains("exceed the data buffer size 4"), SafetensorsError);
}

TEST_CASE("safetensors: overlapping tensors") {
  const std::string header = R"({"a": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]},
                                   "b": {"dtype": "F64", "shape": [2], "data_offsets": [8, 24]}})";
  CHECK_THROWS_WITH_AS(parse(raw_file(header, 24)),
                       Contains("foo.safetensors: tensors 'a' [0, 16] and 'b' [8, 24] overlap"), SafetensorsError);
  // Containment is overlap too.
  const std::string nested = R"({"a": {"dtype": "U8", "shape": [10], "data_offsets": [0, 10]},
                                   "b": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}})";
  CHECK_THROWS_WITH_AS(parse(raw_file(nested, 10)), Contains("tensors 'a' [0, 10] and 'b' [2, 4] overlap"),
                       SafetensorsError);
  // Empty tensors occupy no bytes, so they overlap nothing.
  const std::string empties = R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                                    "b": {"dtype": "U8", "shape": [0], "data_offsets": [2, 2]}})";
  CHECK(parse(raw_file(empties, 4)).tensors.size() == 2);
}

TEST_CASE("safetensors: byte count differs from shape * dtype size") {
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "F64", "shape": [2, 3], "data_offsets": [0, 40])", 40)),
                       Contains("foo.safetensors: tensor 'x' has 40 data bytes but shape [2, 3] of dtype F64 needs 48"),
                       SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(one_tensor(R"("dtype": "F32", "shape": [], "data_offsets": [0, 0])", 0)),
                       Contains("has 0 data bytes but shape [] of dtype F32 needs 4"), SafetensorsError);
  // The product overflowing 64 bits must not wrap around to a small, "valid" size.
  CHECK_THROWS_WITH_AS(
      parse(one_tensor(R"("dtype": "U8", "shape": [4294967296, 4294967296], "data_offsets": [0, 0])", 0)),
      Contains("tensor 'x' has shape [4294967296, 4294967296], too large for 64-bit sizes"), SafetensorsError);
  CHECK_THROWS_WITH_AS(
      parse(one_tensor(R"("dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 0])", 0)),
      Contains("too large for 64-bit sizes"), SafetensorsError);
  // A zero dim makes the product 0, but the other dims still size strides and
  // kernels' buffers ([0, 2^61, 6] once crashed ema_kernel): refused too.
  CHECK_THROWS_WITH_AS(
      parse(one_tensor(R"("dtype": "F64", "shape": [9223372036854775807, 9223372036854775807, 0], "data_offsets": [0, 0])",
                       0)),
      Contains("too large for 64-bit sizes"), SafetensorsError);
  CHECK(parse(one_tensor(R"("dtype": "F64", "shape": [1000, 1000, 0], "data_offsets": [0, 0])", 0))
            .tensors.at("x")
            .data.empty());
}

TEST_CASE("safetensors: __metadata__ must map strings to strings") {
  CHECK_THROWS_WITH_AS(parse(raw_file(R"({"__metadata__": ["a"]})")),
                       Contains("foo.safetensors: __metadata__ must be a JSON object of strings (got array)"),
                       SafetensorsError);
  CHECK_THROWS_WITH_AS(parse(raw_file(R"({"__metadata__": {"a": "b", "seed": 1}})")),
                       Contains("foo.safetensors: __metadata__ value for 'seed' must be a string (got number)"),
                       SafetensorsError);
}

TEST_CASE("safetensors: every truncation of a valid file throws") {
  std::vector<std::vector<uint8_t>> files = {serialize_safetensors(sample_file())};
#ifdef SEQBOAT_SOURCE_DIR
  const fs::path golden = fs::path(SEQBOAT_SOURCE_DIR) / "tests/golden/ema_causal.safetensors";
  if (fs::exists(golden)) files.push_back(read_bytes(golden.string()));
#endif
  for (const auto& bytes : files) {
    REQUIRE_NOTHROW(parse(bytes));
    // Every length through the header and early data, then a stride (ASan is slow).
    for (size_t len = 0; len < bytes.size(); len += (len < 2048 ? 1 : 61)) {
      INFO("truncated to ", len, " of ", bytes.size(), " bytes");
      const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(len));
      CHECK_THROWS_AS(parse(cut), SafetensorsError);
    }
  }
}

TEST_CASE("safetensors: reads the golden file ema_causal") {
#ifndef SEQBOAT_SOURCE_DIR
  MESSAGE("SEQBOAT_SOURCE_DIR not defined; golden file test skipped");
#else
  const fs::path golden = fs::path(SEQBOAT_SOURCE_DIR) / "tests/golden/ema_causal.safetensors";
  if (!fs::exists(golden)) {
    MESSAGE("golden file ", golden.string(), " not found; test skipped");
    return;
  }
  const StFile f = read_safetensors(golden.string());
  CHECK(f.metadata.at("format") == "seqboat-golden/1");
  const StTensor& x = f.tensors.at("input.x");
  CHECK(x.dtype == StDtype::F64);
  CHECK(x.shape == std::vector<int64_t>{2, 10, 6});
  CHECK(x.data.size() == 2 * 10 * 6 * 8);
  CHECK(f.tensors.at("output.y").shape == std::vector<int64_t>{2, 10, 6});
  CHECK(f.tensors.at("param.omega").shape == std::vector<int64_t>{6});
  // Our writer's output of the same content reads back identically.
  check_same(f, parse(serialize_safetensors(f)));
#endif
}
