// tests/cuda_on_host.cpp: see cuda_on_host.h.
#include "cuda_on_host.h"

#include "cuda/host_exec.h"
#include "cuda/kernel_table.h"

namespace seqboat::testing {

const kernels::BackendKernels& cuda_kernels_on_host() {
  static const kernels::BackendKernels table = cuda::make_kernel_table<cuda::HostExec>();
  return table;
}

HostSharedMemoryLimit::HostSharedMemoryLimit(size_t bytes) : saved_(cuda::HostExec::shared_bytes_limit) {
  cuda::HostExec::shared_bytes_limit = bytes;
}
HostSharedMemoryLimit::~HostSharedMemoryLimit() { cuda::HostExec::shared_bytes_limit = saved_; }

}  // namespace seqboat::testing
