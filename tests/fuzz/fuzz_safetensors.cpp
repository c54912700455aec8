// tests/fuzz/fuzz_safetensors.cpp: libFuzzer harness for the safetensors
// reader (tensor/safetensors.h) and its conversion to Tensors, the code every
// file seqboat loads goes through. A documented error (SafetensorsError, a
// SizeError for a size the machine cannot hold) is fine; anything else that
// escapes, and every sanitizer report, is a finding. A file that parses must
// serialize and parse back to the same tensors.
#include <cstdint>
#include <stdexcept>
#include <cstdlib>

#include "tensor/checked.h"
#include "tensor/safetensors.h"
#include "tensor/serialize.h"

using namespace seqboat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  StFile f;
  try {
    f = parse_safetensors(data, size, "fuzz.safetensors");
  } catch (const SafetensorsError&) {
    return 0;
  }
  try {
    for (const auto& [name, st] : f.tensors) (void)tensor_from_st(st);
  } catch (const SizeError&) {
    return 0;
  }
  const std::vector<uint8_t> again = serialize_safetensors(f);
  const StFile g = parse_safetensors(again, "round trip");
  if (g.tensors.size() != f.tensors.size() || g.metadata != f.metadata) std::abort();
  for (const auto& [name, st] : f.tensors) {
    const StTensor& t = g.tensors.at(name);
    if (t.dtype != st.dtype || t.shape != st.shape || t.data != st.data) std::abort();
  }
  return 0;
}
