// cpu/backend.cpp: the CPU backend's kernel table, assembled from the family
// files (cpu/<family>.cpp), and its thread count.
#include "cpu/backend.h"

#include <omp.h>

#include "cpu/families.h"

namespace seqboat::cpu {

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

void set_num_threads(int n) {
  if (n > 0) omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace seqboat::cpu
