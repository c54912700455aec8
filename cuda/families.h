// cuda/families.h: each CUDA kernel file (cuda/<family>.cu, one per op
// family, mirroring ops/ and cpu/) adds its kernels to the backend table.
#pragma once

#include "kernels/table.h"

namespace seqboat::cuda {

void add_shape_kernels(kernels::BackendKernels& k);
void add_elementwise_kernels(kernels::BackendKernels& k);
void add_reduce_kernels(kernels::BackendKernels& k);
void add_linalg_kernels(kernels::BackendKernels& k);
void add_index_kernels(kernels::BackendKernels& k);
void add_nn_kernels(kernels::BackendKernels& k);
void add_ssm_kernels(kernels::BackendKernels& k);
void add_ema_scan_kernels(kernels::BackendKernels& k);
void add_attention_kernels(kernels::BackendKernels& k);
void add_sma_kernels(kernels::BackendKernels& k);
void add_optim_kernels(kernels::BackendKernels& k);

}  // namespace seqboat::cuda
