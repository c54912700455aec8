// tests/fuzz/fuzz_wav.cpp: libFuzzer harness for the WAV header parser and
// the 16-bit PCM reader (data/wav.h), on whole files and on prefixes of them
// (the Speech Commands index parses a prefix against the file's size).
// Documented errors: std::runtime_error naming the file. A parsed data chunk
// must lie inside the file.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "data/wav.h"

using namespace seqboat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (size_t prefix : {size, size / 2, size_t{44}}) {
    if (prefix > size) continue;
    try {
      const data::WavInfo w = data::parse_wav_header(bytes.substr(0, prefix), size, "fuzz.wav");
      if (w.data_offset > size || w.data_bytes > size - w.data_offset) std::abort();
    } catch (const std::runtime_error&) {
    }
  }
  try {
    const auto samples = data::read_wav_mono16(bytes, 16000, "fuzz.wav");
    if (samples.size() * 2 > size) std::abort();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
