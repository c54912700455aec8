// cuda/sma.cu: the CUDA kernels of ops/sma.cpp (the SMA router, plan and row movers),
// instantiated for the GPU: the kernels themselves are in cuda/sma_impl.h.
#include "cuda/sma_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_sma_kernels(kernels::BackendKernels& k) { impl::add_sma_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
