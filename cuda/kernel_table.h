// cuda/kernel_table.h: every CUDA kernel, instantiated for executor Exec
// (cuda/exec.h), as one kernel table. The GPU build assembles its table
// family by family (cuda/<family>.cu with CudaExec); the tests assemble the
// same table with HostExec to check the kernels' logic on the host.
#pragma once

#include "cuda/attention_impl.h"
#include "cuda/elementwise_impl.h"
#include "cuda/ema_scan_impl.h"
#include "cuda/index_impl.h"
#include "cuda/linalg_impl.h"
#include "cuda/nn_ops_impl.h"
#include "cuda/optim_impl.h"
#include "cuda/reduce_impl.h"
#include "cuda/shape_impl.h"
#include "cuda/sma_impl.h"
#include "cuda/ssm_impl.h"

namespace seqboat::cuda {

template <class Exec>
kernels::BackendKernels make_kernel_table() {
  kernels::BackendKernels k;
  impl::add_shape_kernels<Exec>(k);
  impl::add_elementwise_kernels<Exec>(k);
  impl::add_reduce_kernels<Exec>(k);
  impl::add_linalg_kernels<Exec>(k);
  impl::add_index_kernels<Exec>(k);
  impl::add_nn_kernels<Exec>(k);
  impl::add_ssm_kernels<Exec>(k);
  impl::add_ema_scan_kernels<Exec>(k);
  impl::add_attention_kernels<Exec>(k);
  impl::add_sma_kernels<Exec>(k);
  impl::add_optim_kernels<Exec>(k);
  return k;
}

}  // namespace seqboat::cuda
