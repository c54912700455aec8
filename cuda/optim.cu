// cuda/optim.cu: the CUDA kernels of ops/optim.cpp (AdamW, SGD, gradient norm),
// instantiated for the GPU: the kernels themselves are in cuda/optim_impl.h.
#include "cuda/optim_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_optim_kernels(kernels::BackendKernels& k) { impl::add_optim_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
