// tensor/safe_text.cpp: see safe_text.h.
#include "tensor/safe_text.h"

#include <fmt/format.h>

#include <cstdint>

namespace seqboat {

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (1-4) and its code
// point, or 0 when the bytes there are not valid UTF-8 (a stray continuation
// byte, a truncated sequence, an overlong form, a surrogate, > U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t c = b(0);
  size_t n;
  uint32_t min;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// Code points that a terminal does not print as a visible character.
bool invisible(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF;
}

// The shared escaper. `whole_message`: keep newlines and backslashes.
std::string escape(std::string_view text, size_t max_bytes, bool whole_message) {
  std::string out;
  size_t i = 0;
  while (i < text.size() && i < max_bytes) {
    uint32_t cp = 0;
    const size_t n = utf8_sequence(text, i, cp);
    if (n == 0) {
      out += fmt::format("\\x{:02x}", static_cast<uint8_t>(text[i]));
      ++i;
      continue;
    }
    if (whole_message && (cp == '\n' || cp == '\\')) {
      out += static_cast<char>(cp);
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (invisible(cp)) {
      out += cp < 0x80 ? fmt::format("\\x{:02x}", cp) : fmt::format("\\u{{{:04X}}}", cp);
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  if (i < text.size()) out += fmt::format("... ({} more bytes)", text.size() - i);
  return out;
}

}  // namespace

std::string safe_text(std::string_view text, size_t max_bytes) { return escape(text, max_bytes, false); }

std::string quote_text(std::string_view text, size_t max_bytes) {
  std::string out(1, '\'');  // (not "'" + ...: GCC 12 warns falsely, bug 105329)
  out += safe_text(text, max_bytes);
  out += '\'';
  return out;
}

std::string quoted_list(const std::vector<std::string>& items, size_t max_items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max_items; ++i) out += (i ? ", " : "") + quote_text(items[i]);
  if (items.size() > max_items) out += fmt::format(" and {} more", items.size() - max_items);
  return out;
}

std::string safe_message(std::string_view message, size_t max_bytes) { return escape(message, max_bytes, true); }

}  // namespace seqboat
