// tests/cuda_on_host.cpp: see cuda_on_host.h.
#include "cuda_on_host.h"

#include "cuda/host_exec.h"
#include "cuda/kernel_table.h"

namespace seqboat::testing {

const kernels::BackendKernels& cuda_kernels_on_host() {
  static const kernels::BackendKernels table = cuda::make_kernel_table<cuda::HostExec>();
  return table;
}

}  // namespace seqboat::testing
