// cuda/index.cu: the CUDA kernels of ops/index.cpp (gather, scatter, index checks),
// instantiated for the GPU: the kernels themselves are in cuda/index_impl.h.
#include "cuda/index_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_index_kernels(kernels::BackendKernels& k) { impl::add_index_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
