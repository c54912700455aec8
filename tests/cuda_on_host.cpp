// tests/cuda_on_host.cpp: see cuda_on_host.h. The families' host builds are
// generated files (tests/CMakeLists.txt), one per cuda/<family>_impl.h.
#include "cuda_on_host.h"

#include "cuda/host_exec.h"

namespace seqboat::cuda::on_host {
#define SEQBOAT_DECLARE_FAMILY_(family, unused) void add_##family##_kernels(kernels::BackendKernels& k);
SEQBOAT_FAMILIES(SEQBOAT_DECLARE_FAMILY_, unused)
#undef SEQBOAT_DECLARE_FAMILY_
}  // namespace seqboat::cuda::on_host

namespace seqboat::testing {

const kernels::BackendKernels& cuda_kernels_on_host() {
  static const kernels::BackendKernels table = [] {
    kernels::BackendKernels k;
#define SEQBOAT_ADD_FAMILY_(family, table) cuda::on_host::add_##family##_kernels(table);
    SEQBOAT_FAMILIES(SEQBOAT_ADD_FAMILY_, k)
#undef SEQBOAT_ADD_FAMILY_
    return k;
  }();
  return table;
}

HostSharedMemoryLimit::HostSharedMemoryLimit(size_t bytes) : saved_(cuda::HostExec::shared_bytes_limit) {
  cuda::HostExec::shared_bytes_limit = bytes;
}
HostSharedMemoryLimit::~HostSharedMemoryLimit() { cuda::HostExec::shared_bytes_limit = saved_; }

}  // namespace seqboat::testing
