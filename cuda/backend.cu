// cuda/backend.cu: the CUDA backend's kernel table, assembled from the family
// files (cuda/<family>.cu). Every kernel is written once over an executor
// (cuda/exec.h); the test suite runs the same templates on the host.
#include "cuda/backend.h"
#include "cuda/families.h"

namespace seqboat::cuda {

const kernels::BackendKernels& backend_kernels() {
  static const kernels::BackendKernels table = [] {
    kernels::BackendKernels k;
    add_shape_kernels(k);
    add_elementwise_kernels(k);
    add_reduce_kernels(k);
    add_linalg_kernels(k);
    add_index_kernels(k);
    add_nn_kernels(k);
    add_ssm_kernels(k);
    add_ema_scan_kernels(k);
    add_attention_kernels(k);
    add_sma_kernels(k);
    add_optim_kernels(k);
    return k;
  }();
  return table;
}

}  // namespace seqboat::cuda
