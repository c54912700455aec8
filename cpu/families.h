// cpu/families.h: each CPU kernel file (one per op family, mirroring ops/)
// adds its kernels to the backend table through one of these.
#pragma once

#include "kernels/table.h"

namespace seqboat::cpu {

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

}  // namespace seqboat::cpu
