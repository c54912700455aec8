// cpu/backend.cpp: the CPU backend's kernel table, assembled from the family
// files (cpu/<family>.cpp, one per entry of SEQBOAT_FAMILIES), and its
// thread count.
#include "cpu/backend.h"

#include <omp.h>

namespace seqboat::cpu {

const kernels::BackendKernels& backend_kernels() {
  static const kernels::BackendKernels table = [] {
    kernels::BackendKernels k;
#define SEQBOAT_CPU_ADD_FAMILY_(family, table) add_##family##_kernels(table);
    SEQBOAT_FAMILIES(SEQBOAT_CPU_ADD_FAMILY_, k)
#undef SEQBOAT_CPU_ADD_FAMILY_
    return k;
  }();
  return table;
}

void set_num_threads(int n) {
  if (n > 0) omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace seqboat::cpu
