// cuda/reduce.cu: the CUDA kernels of ops/reduce.cpp (sums, max, argmax),
// instantiated for the GPU: the kernels themselves are in cuda/reduce_impl.h.
#include "cuda/reduce_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_reduce_kernels(kernels::BackendKernels& k) { impl::add_reduce_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
