// tests/fuzz/fuzz_listops.cpp: libFuzzer harness for the ListOps TSV reader
// (data/listops_tsv.h), the tokenizer (data/listops.h) and what training
// does with each example: evaluate it and shuffle its arguments. Documented
// errors: std::runtime_error from the reader ("<file>: line N: ..."),
// std::invalid_argument from the tokenizer, evaluator and shuffler. A
// shuffled expression must keep its value and its length.
#include <cstdint>
#include <stdexcept>
#include <cstdlib>
#include <string>
#include <string_view>

#include "data/listops.h"
#include "data/listops_tsv.h"

using namespace seqboat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)data::tokenize_listops(std::string(text));
  } catch (const std::invalid_argument&) {
  }
  std::vector<data::ListOpsExample> rows;
  try {
    rows = data::parse_listops_tsv(text, "fuzz.tsv");
  } catch (const std::runtime_error&) {
    return 0;
  }
  Generator rng(size);
  for (const auto& ex : rows) {
    int value = 0;
    try {
      value = data::eval_listops(ex.tokens);
    } catch (const std::invalid_argument&) {
      continue;
    }
    const std::vector<int32_t> shuffled = data::listops_shuffle_arguments(ex.tokens, rng);
    if (shuffled.size() != ex.tokens.size() || data::eval_listops(shuffled) != value) std::abort();
    (void)data::listops_detokenize(shuffled);
  }
  return 0;
}
