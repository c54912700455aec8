// tests/fuzz/fuzz_tsv.cpp: libFuzzer harness for the AAN pair TSV reader
// (data/aan.h): the line parser on every line, and the streaming indexer and
// the pair reader on the whole input written to a file. Documented errors:
// std::runtime_error naming the file and line. Read texts are never longer
// than asked or than the line.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "data/aan.h"

using namespace seqboat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t line = 0;
  for (size_t pos = 0; pos <= text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    try {
      const data::AanPair p = data::parse_aan_line(text.substr(pos, nl - pos), "fuzz.tsv", ++line);
      if (p.label != 0 && p.label != 1) std::abort();
    } catch (const std::runtime_error&) {
    }
    pos = nl + 1;
  }
  static const std::string path = "/tmp/seqboat_fuzz_tsv_" + std::to_string(::getpid()) + ".tsv";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    data::AanFile f(path);
    std::string a, b;
    for (size_t i = 0; i < f.size() && i < 64; ++i) {
      f.read_pair(i, 16, a, b);
      if (a.size() > 16 || b.size() > 16 || a.size() + b.size() > f.row(i).bytes) std::abort();
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
