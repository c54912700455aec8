// tests/test_hardening_text.cpp: untrusted text in messages. safe_text and
// its relatives escape what a terminal would obey or hide, keep what it
// prints, clip long text saying how much was cut; the messages that quote a
// name, key, path or value from a file use them, and lists are capped.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "nn/layers.h"
#include "nn/seqboat.h"
#include "tensor/safe_text.h"
#include "test_util.h"
#include "train/config.h"

using namespace seqboat;
using doctest::Contains;

namespace {

// True when s holds a byte below 0x20 other than '\n', or DEL.
bool has_control_byte(const std::string& s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\n') || c == 0x7f) return true;
  return false;
}

std::string what_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("safe_text escapes control characters, invalid UTF-8 and invisible code points") {
  CHECK(safe_text("plain text, 123") == "plain text, 123");
  CHECK(safe_text("\x1b[31mred\x1b[0m\a") == "\\x1b[31mred\\x1b[0m\\x07");
  CHECK(safe_text(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(safe_text("tab\tnew\nline\r") == "tab\\x09new\\x0aline\\x0d");
  CHECK(safe_text("back\\slash") == "back\\\\slash");  // unambiguous: a literal backslash doubles
  CHECK(safe_text("\x7f") == "\\x7f");
  // Valid printable UTF-8 stays; C1 controls, bidi overrides, zero-width
  // characters and the BOM are escaped as code points.
  CHECK(safe_text("gr\xc3\xbc\xc3\x9f \xe6\x97\xa5") == "gr\xc3\xbc\xc3\x9f \xe6\x97\xa5");
  CHECK(safe_text("\xc2\x9b"
                  "31m") == "\\u{009B}31m");
  CHECK(safe_text("abc\xe2\x80\xae"
                  "txt.exe") == "abc\\u{202E}txt.exe");
  CHECK(safe_text("\xe2\x80\x8b") == "\\u{200B}");
  CHECK(safe_text("\xef\xbb\xbf") == "\\u{FEFF}");
  // Invalid UTF-8: a stray continuation byte, a truncated sequence, an
  // overlong form, a surrogate, a code point above U+10FFFF.
  CHECK(safe_text("\x80") == "\\x80");
  CHECK(safe_text("\xe6\x97") == "\\xe6\\x97");
  CHECK(safe_text("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(safe_text("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(safe_text("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
}

TEST_CASE("safe_text clips long text and says how much was cut") {
  const std::string long_text(1000, 'x');
  const std::string s = safe_text(long_text);
  CHECK(s.size() < 400);
  CHECK(s.find("... (700 more bytes)") != std::string::npos);
  CHECK(safe_text("abcdef", 3) == "abc... (3 more bytes)");
  CHECK(quote_text("abcdef", 3) == "'abc... (3 more bytes)'");
  // A multi-byte character is never split into invalid halves.
  CHECK(safe_text("\xc3\xbc\xc3\xbc", 1) == "\xc3\xbc... (2 more bytes)");
}

TEST_CASE("quoted_list names at most 10 items and counts the rest") {
  std::vector<std::string> many;
  for (int i = 0; i < 100000; ++i) many.push_back("name_" + std::to_string(i));
  const std::string s = quoted_list(many);
  CHECK(s.size() < 200);
  CHECK(s.find("'name_9' and 99990 more") != std::string::npos);
  CHECK(quoted_list({"a\x1b", "b"}) == "'a\\x1b', 'b'");
  CHECK(quoted_list({}).empty());
}

TEST_CASE("safe_message keeps newlines and backslashes, escapes the rest, caps the size") {
  CHECK(safe_message("line 1\nline \\x1b 2") == "line 1\nline \\x1b 2");
  CHECK(safe_message("bell\a\x1b[2J") == "bell\\x07\\x1b[2J");
  const std::string m = safe_message(std::string(10000, 'y'));
  CHECK(m.size() < 4200);
  CHECK(m.find("(5904 more bytes)") != std::string::npos);
}

TEST_CASE("load_state_dict: 100,000 unknown names give a short message; control characters are escaped") {
  Generator gen(0);
  nn::Linear lin(2, 3, true, DType::Float64, gen);
  std::map<std::string, Tensor> state = lin.state_dict();
  for (int i = 0; i < 100000; ++i) state["unknown_" + std::to_string(i)] = zeros({1}, DType::Float64);
  state["\x1b]0;title\x07"] = zeros({1}, DType::Float64);
  const std::string m = what_of([&] { lin.load_state_dict(state); });
  CHECK(m.find("100001 unexpected") != std::string::npos);
  CHECK(m.find("and 99991 more") != std::string::npos);
  CHECK(m.size() < 1000);
  CHECK_FALSE(has_control_byte(m));
  state = {{"weight", zeros({3, 3}, DType::Float64)}, {"bias\x1b", zeros({3}, DType::Float64)}};
  const std::string shape = what_of([&] { lin.load_state_dict(state); });
  CHECK(shape.find("'weight' has shape [3, 3]") != std::string::npos);
}

TEST_CASE("config and golden-config errors quote keys and values safely") {
  const std::string bad_key = what_of([] { train::resolve_config("recall", "", {"\x1b[31mkey=1"}); });
  CHECK(bad_key.find("unknown config key '\\x1b[31mkey'") != std::string::npos);
  CHECK_FALSE(has_control_byte(bad_key));
  const std::string bad_choice = what_of([] { train::resolve_config("recall", "", {"optimizer=\xff\x1b"}); });
  CHECK(bad_choice.find("'\\xff\\x1b' is not one of") != std::string::npos);
  const std::string file_key =
      what_of([] { train::resolve_config_text("recall", "{\"\\u001b[2J\": 1}", "c\x1b.json", {}); });
  CHECK(file_key.find("config file 'c\\x1b.json': unknown key '\\x1b[2J'") != std::string::npos);
  const std::string golden = what_of([] {
    nn::LayerConfig::from_json(nlohmann::json::parse(
        R"({"embed_dim": 4, "zdim": 2, "hdim": 8, "window_size": 2, "norm_type": "\u001b[31m"})"));
  });
  CHECK(golden.find("norm_type '\\x1b[31m' is not one of") != std::string::npos);
  CHECK_FALSE(has_control_byte(golden));
}
