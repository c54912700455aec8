// tests/cuda_on_host.h: the CUDA backend's kernels built with the host
// executor (cuda/exec.h, cuda/host_exec.h): the same kernel templates the GPU
// runs, as plain loops, so tests can run them through every op.
#pragma once

#include <cstddef>

#include "ops/dispatch.h"

namespace seqboat::testing {

const kernels::BackendKernels& cuda_kernels_on_host();

// While alive, ops on the CPU run the CUDA kernels' host build instead of the
// CPU backend (ops/dispatch.h: set_kernel_table_for_testing).
class CudaKernelsOnHost {
 public:
  CudaKernelsOnHost() { set_kernel_table_for_testing(Device::CPU, &cuda_kernels_on_host()); }
  ~CudaKernelsOnHost() { set_kernel_table_for_testing(Device::CPU, nullptr); }
  CudaKernelsOnHost(const CudaKernelsOnHost&) = delete;
  CudaKernelsOnHost& operator=(const CudaKernelsOnHost&) = delete;
};

// While alive, the host build's kernels see `bytes` of shared memory per block
// (cuda/host_exec.h; 48 KiB otherwise): a small limit makes small tiles, 0
// makes the kernels take their paths without shared memory.
class HostSharedMemoryLimit {
 public:
  explicit HostSharedMemoryLimit(size_t bytes);
  ~HostSharedMemoryLimit();
  HostSharedMemoryLimit(const HostSharedMemoryLimit&) = delete;
  HostSharedMemoryLimit& operator=(const HostSharedMemoryLimit&) = delete;

 private:
  size_t saved_;
};

}  // namespace seqboat::testing
