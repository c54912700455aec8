// tensor/json_text.cpp: see json_text.h.
#include "tensor/json_text.h"

#include <fmt/format.h>

namespace seqboat {

int json_nesting_depth(std::string_view text, int stop_above) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) > stop_above) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  return deepest;
}

nlohmann::json parse_json_text(std::string_view text, const std::string& what, int max_depth) {
  if (json_nesting_depth(text, max_depth) > max_depth)
    throw JsonTextError(fmt::format("{}: nested deeper than {} levels (the limit)", what, max_depth));
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."; keep from "parse error".
    std::string m = e.what();
    const size_t at = m.find("parse error");
    throw JsonTextError(fmt::format("{}: {}", what, at == std::string::npos ? m : m.substr(at)));
  } catch (const nlohmann::json::exception& e) {
    throw JsonTextError(fmt::format("{}: {}", what, e.what()));
  }
}

std::string json_excerpt(const nlohmann::json& value, size_t max_chars) {
  if (value.is_array()) return fmt::format("an array of {} element(s)", value.size());
  if (value.is_object()) return fmt::format("an object of {} key(s)", value.size());
  if (value.is_string()) return "the string " + quote_text(value.get_ref<const std::string&>(), max_chars);
  std::string text = value.dump();  // a scalar: no recursion
  return fmt::format("{} {}", value.type_name(), text.size() > max_chars ? text.substr(0, max_chars) + "..." : text);
}

}  // namespace seqboat
