// cuda/backend.h: the CUDA backend as the ops layer sees it: its kernel table
// (kernels/table.h). Plain C++: the ops layer includes it without nvcc.
#pragma once

#include "kernels/table.h"

namespace seqboat::cuda {

// Every kernel the CUDA backend has, filled once on first use.
const kernels::BackendKernels& backend_kernels();

// Each family's file, cuda/<family>.cu, adds its kernels (the templates of
// cuda/<family>_impl.h instantiated for the GPU) to the table.
#define SEQBOAT_CUDA_DECLARE_FAMILY_(family, unused) void add_##family##_kernels(kernels::BackendKernels& k);
SEQBOAT_FAMILIES(SEQBOAT_CUDA_DECLARE_FAMILY_, unused)
#undef SEQBOAT_CUDA_DECLARE_FAMILY_

}  // namespace seqboat::cuda
