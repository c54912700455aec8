// nn/checkpoint.h: training checkpoints as ONE safetensors file.
//
// Layout: model tensors under their plain names (the weights read like a
// PyTorch state_dict), optimizer tensors under their `optim.*` names
// (Optimizer::state_dict), and string metadata:
//   format  "seqboat-checkpoint/1"
//   step    decimal training step
//   rng     JSON array of generator states, each 4 decimal strings
//           ([["123", ...], ...]: a uint64 does not fit a JSON double)
//   config  the run's configuration as JSON text
//   <key>   every entry of `extra` (must not reuse the names above)
// Writes are atomic (temporary file + rename), so a crash leaves the previous
// checkpoint intact.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace seqboat::nn {

inline constexpr const char* kCheckpointFormat = "seqboat-checkpoint/1";

struct Checkpoint {
  std::map<std::string, Tensor> model;      // Module::state_dict()
  std::map<std::string, Tensor> optimizer;  // Optimizer::state_dict(): every name starts with "optim."
  int64_t step = 0;
  std::vector<std::array<uint64_t, 4>> rng_states;  // Generator::state()
  std::string config_json = "{}";
  std::map<std::string, std::string> extra;
};

// Throws std::invalid_argument for an inconsistent Checkpoint (a model name
// starting with "optim.", an optimizer name that does not, an extra key that
// reuses a reserved one, config that is not JSON).
void save_checkpoint(const std::string& path, const Checkpoint& ckpt);
// Throws std::runtime_error whose message starts with the file name: I/O and
// malformed files (SafetensorsError), not a seqboat checkpoint, a missing
// metadata key, a malformed step, rng or config.
// The step is a non-negative decimal; the config a JSON object (its keys
// are validated by train::parse_run_config, which knows them).
Checkpoint load_checkpoint(const std::string& path);
// The first element that is NaN or infinite among the floating tensors of
// `tensors` (in name order): "tensor 'name' holds nan at index 3 (of 12)",
// or "" when every value is finite. A checkpoint whose weights are not finite
// evaluates to "loss nan" and samples garbage, so loading one for use is an
// error that names the tensor and the index.
std::string first_nonfinite(const std::map<std::string, Tensor>& tensors);

// The same from the file's bytes in memory (the fuzz harness's entry point).
Checkpoint parse_checkpoint(const uint8_t* bytes, size_t size, const std::string& name_for_errors);

}  // namespace seqboat::nn
