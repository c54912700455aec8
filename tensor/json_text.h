// tensor/json_text.h: JSON from untrusted text (safetensors headers, configs,
// checkpoint metadata, metrics.jsonl) and untrusted text in error messages.
// nlohmann::json parses into a tree that later code walks recursively
// (dump(), flattening, comparison), so nesting depth is limited before
// parsing: a header nested 150k deep is an error, not a stack overflow.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tensor/safe_text.h"  // quote_text

namespace seqboat {

// Deeper than any JSON seqboat reads or writes (configs nest 2 levels).
constexpr int kMaxJsonDepth = 64;

struct JsonTextError : std::runtime_error {
  using runtime_error::runtime_error;
};

// Parses `text` as one JSON value. Throws JsonTextError "<what>: <detail>"
// for malformed JSON (the parser's "parse error at line 1, column 5: ...")
// or nesting deeper than max_depth arrays/objects; `what` says what was
// being read, e.g. "config file 'c.json' is not valid JSON".
nlohmann::json parse_json_text(std::string_view text, const std::string& what, int max_depth = kMaxJsonDepth);

// The deepest array/object nesting in `text` (strings skipped), stopping as
// soon as it exceeds `stop_above`; iterative.
int json_nesting_depth(std::string_view text, int stop_above);

// A JSON value for a message without walking it: scalars as (clipped) text,
// arrays and objects as their type and size ("an array of 3 elements").
std::string json_excerpt(const nlohmann::json& value, size_t max_chars = 60);

}  // namespace seqboat
