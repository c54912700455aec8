// tensor/safe_text.h: untrusted text made safe to print. A name, path, key or
// value that came from a file or a command line may hold escape sequences
// (which a terminal obeys), bidirectional-override characters, invalid UTF-8
// or megabytes of text; every message that quotes one passes it through
// safe_text (quote_text adds the quotes), and the command line passes every
// whole message through safe_message before printing it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace seqboat {

// How much of one untrusted string a message quotes.
constexpr size_t kQuotedTextBytes = 300;
// How long a whole message may be, and how many items a list in one may name.
constexpr size_t kMessageBytes = 4096;
constexpr size_t kListedItems = 10;

// `text` with every byte that is not printable escaped and the rest kept:
// control characters (C0, DEL, C1), Unicode format characters that reorder
// or hide text (U+200B-U+200F, U+2028-U+202E, U+2060-U+2069, U+FEFF) and
// bytes that are not valid UTF-8 become \xNN (\u{XXXX} for a code point),
// a backslash becomes "\\" (so the result is unambiguous); valid printable
// UTF-8 is kept. At most max_bytes bytes of the input are shown; a longer
// text ends with "... (N more bytes)".
std::string safe_text(std::string_view text, size_t max_bytes = kQuotedTextBytes);

// safe_text in single quotes: 'text'.
std::string quote_text(std::string_view text, size_t max_bytes = kQuotedTextBytes);

// Up to max_items quoted items, comma-separated, then "and N more".
std::string quoted_list(const std::vector<std::string>& items, size_t max_items = kListedItems);

// A whole message for the terminal: escapes as safe_text does, except that
// newlines and backslashes are kept (the message's own text), and clips it
// to max_bytes. Applied to every error line the command line prints, so
// that text quoted raw anywhere still cannot reach the terminal.
std::string safe_message(std::string_view message, size_t max_bytes = kMessageBytes);

}  // namespace seqboat
