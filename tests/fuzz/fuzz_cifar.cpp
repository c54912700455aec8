// tests/fuzz/fuzz_cifar.cpp: libFuzzer harness for the checks of a CIFAR-10
// batch file (data/cifar10.h) that the index runs on every file: its size,
// then every record's label, then each record's gray conversion. Documented
// errors: std::runtime_error naming the file (and record). Accepted input
// yields one label 0..9 per record.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "data/cifar10.h"

using namespace seqboat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::vector<uint8_t> labels;
  try {
    data::check_cifar_batch_size(size, "fuzz.bin");
    data::check_cifar_labels(bytes, 0, "fuzz.bin", labels);
  } catch (const std::runtime_error&) {
    return 0;
  }
  if (labels.size() * data::kCifarRecordBytes != size) std::abort();
  uint8_t gray[data::kCifarPixels];
  for (size_t r = 0; r < labels.size(); ++r) {
    if (labels[r] > 9) std::abort();
    data::cifar_record_gray(data + r * data::kCifarRecordBytes, gray);
  }
  return 0;
}
