// cuda/backend.cu: the CUDA backend's kernel table, assembled from the family
// files (cuda/<family>.cu, one per entry of SEQBOAT_FAMILIES). Every kernel is
// written once over an executor (cuda/exec.h); the test suite runs the same
// templates on the host.
#include "cuda/backend.h"

namespace seqboat::cuda {

const kernels::BackendKernels& backend_kernels() {
  static const kernels::BackendKernels table = [] {
    kernels::BackendKernels k;
#define SEQBOAT_CUDA_ADD_FAMILY_(family, table) add_##family##_kernels(table);
    SEQBOAT_FAMILIES(SEQBOAT_CUDA_ADD_FAMILY_, k)
#undef SEQBOAT_CUDA_ADD_FAMILY_
    return k;
  }();
  return table;
}

}  // namespace seqboat::cuda
