// train/svg_text.cpp: UTF-8 decoding for the report's text: code point
// counts, visible token labels, and report::xml_escape (see svg_text.h and
// report.h).
#include "train/svg_text.h"

#include <fmt/format.h>

#include <cstdint>
#include <vector>

#include "train/report.h"

namespace seqboat::report {
namespace {

// Decodes the code point at s[i] and advances i; returns -1 (advancing one
// byte) for a byte that does not start a valid, shortest-form sequence.
int32_t next_code_point(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  int32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++i;
    return -1;
  }
  if (i + len > s.size()) {
    ++i;
    return -1;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  const int32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
  if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return -1;
  }
  i += len;
  return cp;
}

bool xml_allowed(int32_t cp) {
  if (cp < 0) return false;
  if (cp < 0x20) return cp == 0x09 || cp == 0x0A || cp == 0x0D;
  return cp != 0xFFFE && cp != 0xFFFF;
}

}  // namespace

int count_code_points(std::string_view s) {
  int n = 0;
  size_t i = 0;
  while (i < s.size()) {
    next_code_point(s, i);
    ++n;
  }
  return n;
}

std::pair<std::string, int> visible_token(const std::string& tok, int max_chars) {
  if (tok.empty()) return {"\u2205", 1};  // empty set sign
  std::vector<std::string> pieces;
  size_t i = 0;
  while (i < tok.size()) {
    const size_t start = i;
    const int32_t cp = next_code_point(tok, i);
    if (cp == ' ') {
      pieces.emplace_back("\u2423");  // open box
    } else if (cp == '\n') {
      pieces.emplace_back("\\n");
    } else if (cp == '\t') {
      pieces.emplace_back("\\t");
    } else if (cp == '\r') {
      pieces.emplace_back("\\r");
    } else if (cp < 0 || cp < 0x20 || cp == 0x7F || !xml_allowed(cp)) {
      pieces.push_back(fmt::format("\\x{:02X}", static_cast<unsigned char>(tok[start])));
    } else {
      pieces.push_back(tok.substr(start, i - start));
    }
  }
  // Count in display characters: an escape like "\x80" is 4 characters.
  int total = 0;
  for (const auto& p : pieces) total += count_code_points(p);
  const int budget = total <= max_chars ? max_chars : max_chars - 1;  // room for the ellipsis
  std::string out;
  int chars = 0;
  for (const auto& p : pieces) {
    const int w = count_code_points(p);
    if (chars + w > budget) break;
    out += p;
    chars += w;
  }
  if (total > max_chars) {
    out += "\u2026";
    ++chars;
  }
  return {out, chars};
}

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const int32_t cp = next_code_point(text, i);
    switch (cp) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (xml_allowed(cp)) out.append(text, start, i - start);
        else out += "\uFFFD";
    }
  }
  return out;
}

}  // namespace seqboat::report
