// ops/backend.h: what the backends of this build offer, for the layers above
// ops: which kernels exist per device and dtype (`seqboat kernels` prints
// it), whether a device can be used, and the CPU thread count.
#pragma once

#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace seqboat {

struct KernelAvailability {
  std::string family, name;
  bool untyped = false;  // one slot for every dtype (masks and indices only)
  // has[device][dtype], indexed by the enums' values (an untyped kernel: the
  // same for every dtype).
  bool has[kNumDevices][kNumDTypes] = {};
};

// Every kernel of kernels/table.h, in table order.
std::vector<KernelAvailability> kernel_availability();

// The table as text: one line per kernel, a column per (device, dtype);
// an untyped kernel shows "*" (any dtype) where the device has it.
std::string kernel_table_text();

// True when tensors can be placed on `device` in this process (the CPU
// always; CUDA when built with it and a GPU is present).
bool device_available(Device device);
// Why `device` cannot be used, or "" when it can.
std::string device_unavailable_reason(Device device);
// "cpu" or "cuda"; throws std::invalid_argument naming the text otherwise.
Device parse_device(const std::string& name);

// Waits until the work queued on `device` is done (timing; a no-op on the CPU,
// whose kernels return when finished).
void synchronize_device(Device device);

// Threads the CPU kernels use (OpenMP); n > 0.
void set_cpu_threads(int n);
int cpu_threads();

}  // namespace seqboat
