// tests/test_hardening_sizes.cpp: regression tests for hostile inputs that
// crashed seqboat in the file readers: sizes that overflow 64-bit arithmetic (class 1),
// deeply nested JSON (class 2), a training expression nested 40k deep (class
// 3) and integers that wrapped when narrowed (class 5). Each used to be a
// segfault, an abort or a silently wrong run; each must now be an exception
// naming the file, key or shape and the rule it broke.
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "data/listops.h"
#include "tensor/checked.h"
#include "tensor/json_text.h"
#include "tensor/safetensors.h"
#include "tensor/serialize.h"
#include "tensor/tensor.h"
#include "test_util.h"
#include "train/config.h"
#include "train/golden.h"

using namespace seqboat;
using doctest::Contains;
using seqboat::testing::TempDir;

namespace {

std::vector<uint8_t> st_bytes(const std::string& header, size_t data_size = 0) {
  std::vector<uint8_t> out(8 + header.size() + data_size, 0);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(uint64_t(header.size()) >> (8 * i));
  std::copy(header.begin(), header.end(), out.begin() + 8);
  return out;
}

std::string nested(const std::string& open, const std::string& inner, const std::string& close, int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open;
  s += inner;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

// The recursive argument shuffler the iterative one replaced, kept as the
// reference: the augmentation (and so every training run) must not change.
size_t reference_shuffle(const std::vector<int32_t>& t, size_t pos, Generator& rng, std::vector<int32_t>& out) {
  if (data::listops_is_digit(t[pos])) {
    out.push_back(t[pos]);
    return pos + 1;
  }
  std::vector<std::vector<int32_t>> args;
  size_t at = pos + 1;
  while (t[at] != data::kListOpsClose) {
    args.emplace_back();
    at = reference_shuffle(t, at, rng, args.back());
  }
  for (size_t i = args.size() - 1; i > 0; --i) std::swap(args[i], args[rng.next_below(i + 1)]);
  out.push_back(t[pos]);
  for (const auto& a : args) out.insert(out.end(), a.begin(), a.end());
  out.push_back(data::kListOpsClose);
  return at + 1;
}

}  // namespace

TEST_CASE("class 1: shape products are checked in one place, zero-sized dims included") {
  CHECK(checked_numel({2, 3, 4}, "x") == 24);
  CHECK(checked_numel({0, 5}, "x") == 0);
  CHECK_THROWS_AS(checked_numel({0, int64_t{1} << 61, 6}, "x"), SizeError);  // 0 elements, but strides overflow
  CHECK_THROWS_AS(checked_numel({int64_t{1} << 32, int64_t{1} << 32}, "x"), SizeError);
  CHECK_THROWS_WITH_AS(checked_mul(int64_t{1} << 62, 4, "kernel"), Contains("kernel"), SizeError);
  CHECK_THROWS_WITH_AS(empty({int64_t{1} << 31, int64_t{1} << 31}, DType::Float32),
                       Contains("cannot allocate a float32 tensor of shape [2147483648, 2147483648]"), SizeError);
  // Within 64 bits but more than the machine holds: refused before malloc.
  CHECK_THROWS_WITH_AS(empty({int64_t{1} << 50}, DType::Float64), Contains("more than the"), SizeError);
  CHECK_THROWS_AS(check_allocation(max_allocation_bytes() + 1, "x"), SizeError);
}

TEST_CASE("class 1: the safetensors reader refuses a shape whose size overflows, even with no elements") {
  const std::string h = R"({"x": {"dtype": "F64", "shape": [0, 2305843009213693952, 6], "data_offsets": [0, 0]}})";
  CHECK_THROWS_WITH_AS(parse_safetensors(st_bytes(h), "in.safetensors"),
                       Contains("in.safetensors: tensor 'x' has shape [0, 2305843009213693952, 6], too large"),
                       SafetensorsError);
}

TEST_CASE("class 1: a golden-style file whose config says max_positions 2^62 is an error naming the key") {
  TempDir dir;
  StFile f;
  f.metadata["module"] = "SeqBoatLayer";
  f.metadata["config"] =
      R"({"embed_dim": 4, "zdim": 2, "hdim": 8, "window_size": 2, "max_positions": 4611686018427387904})";
  StTensor x;
  x.dtype = StDtype::F64;
  x.shape = {1, 2, 4};
  x.data.assign(8 * 8, 0);
  f.tensors["input.x"] = x;
  f.tensors["output_grad.y"] = x;
  write_safetensors(dir.file("layer.safetensors"), f);
  CHECK_THROWS_WITH_AS(train::check_golden_file(dir.file("layer.safetensors"), DType::Float64, Device::CPU, 1e-9),
                       Contains("'max_positions' must be from 1 to"), std::invalid_argument);
}

TEST_CASE("class 1: a config size that would overflow allocation is out of range") {
  CHECK_THROWS_WITH_AS(
      train::resolve_config("recall", "", {"steps=2", "model.d_model=2305843009213693953"}),
      Contains("config key 'model.d_model': number 2305843009213693953 is out of range (an integer from 1 to 16384)"),
      std::invalid_argument);
}

TEST_CASE("class 2: JSON nesting is limited before parsing, and no message walks untrusted JSON") {
  CHECK(json_nesting_depth("[[{\"a\": \"[[[[\"}]]", 100) == 3);  // brackets in strings do not count
  const std::string deep_shape = nested("[", "1", "]", 150000);
  const std::string h = "{\"x\": {\"dtype\": \"U8\", \"shape\": " + deep_shape + ", \"data_offsets\": [0, 1]}}";
  CHECK_THROWS_WITH_AS(parse_safetensors(st_bytes(h, 1), "deep.safetensors"),
                       Contains("deep.safetensors: malformed JSON header: nested deeper than 64 levels"),
                       SafetensorsError);
  // Just below the limit it parses, and the shape error does not dump it.
  const std::string h63 = "{\"x\": {\"dtype\": \"U8\", \"shape\": [" + nested("[", "1", "]", 60) +
                          "], \"data_offsets\": [0, 1]}}";
  CHECK_THROWS_WITH_AS(parse_safetensors(st_bytes(h63, 1), "d.safetensors"),
                       Contains("shape must be an array of 64-bit integers (got an array of 1 element(s) among them)"),
                       SafetensorsError);

  TempDir dir;
  seqboat::testing::write_all(dir.path / "deep.json", nested("{\"a\": ", "1", "}", 200000));
  CHECK_THROWS_WITH_AS(train::resolve_config("listops", dir.file("deep.json"), {}),
                       Contains("deep.json' is not valid JSON: nested deeper than 64 levels"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_config("lm", "", {"data.paths=" + nested("[", "", "]", 100000)}),
                       Contains("config key 'data.paths': cannot parse"), std::invalid_argument);
  CHECK_THROWS_AS(parse_json_text(nested("[", "", "]", 65), "x"), JsonTextError);
  CHECK(parse_json_text(nested("[", "", "]", 64), "x").is_array());
}

TEST_CASE("class 3: argument shuffling is iterative (40k deep) and draws exactly as the recursive version did") {
  std::vector<int32_t> deep;
  const int depth = 40000;
  for (int i = 0; i < depth; ++i) deep.push_back(data::kListOpsMax);
  deep.push_back(data::kListOpsDigit0 + 3);
  for (int i = 0; i < depth; ++i) {
    deep.push_back(data::kListOpsDigit0 + i % 10);
    deep.push_back(data::kListOpsClose);
  }
  Generator g(1);
  const std::vector<int32_t> out = data::listops_shuffle_arguments(deep, g);
  CHECK(out.size() == deep.size());
  CHECK(data::eval_listops(out) == data::eval_listops(deep));

  std::mt19937_64 trees(7);
  for (int n = 0; n < 300; ++n) {
    const std::vector<int32_t> t = data::listops_to_tokens(data::sample_listops_tree(trees, 6, 5));
    Generator a(n), b(n);
    std::vector<int32_t> want;
    reference_shuffle(t, 0, a, want);
    CHECK(data::listops_shuffle_arguments(t, b) == want);
    CHECK(a.next_u64() == b.next_u64());  // the same number of draws
  }
}

TEST_CASE("class 5: integers are range-checked before narrowing") {
  CHECK_THROWS_WITH_AS(train::resolve_config("recall", "", {"steps=18446744073709551615"}),
                       Contains("config key 'steps': number 18446744073709551615 is out of range"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_config("recall", "", {"recall.n_test=4294967297"}),
                       Contains("config key 'recall.n_test'"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_config("recall", "", {"seed=-1"}), Contains("config key 'seed'"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_config("recall", "", {"lr=1e999"}), Contains("config key 'lr'"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(train::resolve_config("listops", "", {"listops.min_length=200"}),
                       Contains("config key 'listops.max_length'"), std::invalid_argument);
  // Every numeric key has a range, and the defaults of every task are in it.
  for (const train::ConfigKey& k : train::config_keys())
    if (k.default_value.is_number()) CHECK_MESSAGE(k.lo < k.hi, k.name);
  for (const char* task : {"listops", "lm", "recall"}) CHECK_NOTHROW(train::validate_config(train::task_defaults(task)));
}
