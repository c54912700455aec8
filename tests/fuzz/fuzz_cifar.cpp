// tests/fuzz/fuzz_cifar.cpp: libFuzzer harness for the CIFAR-10 batch
// parser (data/cifar10.h). Documented errors: std::runtime_error naming the
// file (and record). Parsed records hold 1024 pixels each and labels 0..9.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "data/cifar10.h"

using namespace seqboat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  data::GrayImages im;
  try {
    data::parse_cifar_batch(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.bin", im);
  } catch (const std::runtime_error&) {
    return 0;
  }
  if (im.pixels.size() != im.labels.size() * data::kCifarPixels) std::abort();
  for (int32_t l : im.labels)
    if (l < 0 || l > 9) std::abort();
  return 0;
}
