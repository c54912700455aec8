// tests/fuzz/fuzz_png.cpp: libFuzzer harness for the Pathfinder path: PNG
// bytes decoded through libpng (data/png_gray.h) and the metadata text
// parser (data/pathfinder.h). The first input byte chooses which. Documented
// errors: std::runtime_error naming the file. A decoded image must hold
// width x height pixels within the size limit; a parsed entry must be a safe
// relative path with label 0 or 1.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "data/pathfinder.h"
#include "data/png_gray.h"

using namespace seqboat;

namespace {
// Every '/'-separated component is a plain name (not empty, ".", "..").
bool plain_components(const std::string& p) {
  if (p.empty() || p[0] == '/') return false;
  size_t start = 0;
  for (;;) {
    const size_t slash = p.find('/', start);
    const std::string c = p.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (c.empty() || c == "." || c == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    try {
      const data::GrayImage img = data::decode_png_gray(rest, "fuzz.png");
      if (img.width <= 0 || img.height <= 0 || static_cast<int64_t>(img.width) * img.height > data::kMaxPngPixels ||
          img.pixels.size() != static_cast<size_t>(img.width) * static_cast<size_t>(img.height))
        std::abort();
    } catch (const std::runtime_error&) {
    }
    return 0;
  }
  try {
    for (const data::PathfinderEntry& e : data::parse_pathfinder_metadata(rest, "fuzz.npy")) {
      if ((e.label != 0 && e.label != 1) || !plain_components(e.image)) std::abort();
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
