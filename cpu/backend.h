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

// Each family's file, cpu/<family>.cpp, adds its kernels to the table.
#define SEQBOAT_CPU_DECLARE_FAMILY_(family, unused) void add_##family##_kernels(kernels::BackendKernels& k);
SEQBOAT_FAMILIES(SEQBOAT_CPU_DECLARE_FAMILY_, unused)
#undef SEQBOAT_CPU_DECLARE_FAMILY_

}  // namespace seqboat::cpu
