// cuda/backend.cu: the CUDA backend's kernel table. Each family file
// (cuda/<family>.cu, mirroring cpu/ and ops/) adds its kernels here; a slot
// left empty makes the op say "no cuda kernel for <dtype>".
#include "cuda/backend.h"

namespace seqboat::cuda {

const kernels::BackendKernels& backend_kernels() {
  static const kernels::BackendKernels table = [] {
    kernels::BackendKernels k;
    return k;
  }();
  return table;
}

}  // namespace seqboat::cuda
