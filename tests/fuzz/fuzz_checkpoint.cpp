// tests/fuzz/fuzz_checkpoint.cpp: libFuzzer harness for the checkpoint loader
// (nn/checkpoint.h: metadata step, rng, config) and the run-config validator
// every loaded config goes through (train::parse_run_config), i.e. what
// --resume, eval, inspect and generate do with a file before building a
// model. Documented errors are std::runtime_error (file, metadata, config) and
// SizeError; anything else escaping, and every sanitizer report, is a finding.
#include <cstdint>
#include <stdexcept>

#include "nn/checkpoint.h"
#include "tensor/checked.h"
#include "train/config.h"

using namespace seqboat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const nn::Checkpoint c = nn::parse_checkpoint(data, size, "fuzz.safetensors");
    if (c.step < 0) __builtin_trap();  // the loader promises a non-negative step
    (void)train::parse_run_config(c.config_json, "fuzz.safetensors");
  } catch (const std::runtime_error&) {
  } catch (const SizeError&) {
  }
  return 0;
}
