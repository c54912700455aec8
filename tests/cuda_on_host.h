// tests/cuda_on_host.h: the CUDA backend's kernels built with the host
// executor (cuda/exec.h, cuda/host_exec.h): the same kernel templates the GPU
// runs, as plain loops, so tests can run them through every op.
#pragma once

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

}  // namespace seqboat::testing
