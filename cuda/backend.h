// cuda/backend.h: the CUDA backend as the ops layer sees it: its kernel table
// (kernels/table.h). Plain C++: the ops layer includes it without nvcc.
#pragma once

#include "kernels/table.h"

namespace seqboat::cuda {

// Every kernel the CUDA backend has, filled once on first use.
const kernels::BackendKernels& backend_kernels();

}  // namespace seqboat::cuda
