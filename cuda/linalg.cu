// cuda/linalg.cu: the CUDA kernels of ops/linalg.cpp (matmul and linear on cuBLAS),
// instantiated for the GPU: the kernels themselves are in cuda/linalg_impl.h.
#include "cuda/linalg_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_linalg_kernels(kernels::BackendKernels& k) { impl::add_linalg_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
