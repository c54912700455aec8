// tests/fuzz/fuzz_corpus.cpp: libFuzzer harness for the byte corpus
// (data/bytes_corpus.h): building it from bytes, the train/validation split
// and window sampling, with the split fraction, batch and window length taken
// from the input's first bytes. Documented error: std::invalid_argument.
// Every sampled window must lie inside the corpus.
#include <cstdint>
#include <stdexcept>
#include <cstdlib>
#include <vector>

#include "data/bytes_corpus.h"

using namespace seqboat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const double fraction = (data[0] + 1) / 257.0;
  const int batch = 1 + data[1] % 4, seq_len = data[2];
  try {
    const data::ByteCorpus c = data::ByteCorpus::from_bytes(std::vector<uint8_t>(data + 3, data + size));
    auto [train, val] = c.split(fraction);
    if (train.size() + val.size() != c.size()) std::abort();
    uint64_t rng = size;
    std::vector<int32_t> in, target;
    train.sample_batch(batch, seq_len, rng, in, target);
    if (in.size() != static_cast<size_t>(batch) * seq_len || target.size() != in.size()) std::abort();
    for (int32_t b : in)
      if (b < 0 || b > 255) std::abort();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
