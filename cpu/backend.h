// cpu/backend.h: the CPU backend as the ops layer sees it: its kernel table
// (kernels/table.h) and its thread count.
#pragma once

#include "kernels/table.h"

namespace seqboat::cpu {

// Every kernel the CPU backend has, filled once on first use.
const kernels::BackendKernels& backend_kernels();

// OpenMP threads used by the CPU kernels (n > 0), and the current count.
void set_num_threads(int n);
int num_threads();

}  // namespace seqboat::cpu
