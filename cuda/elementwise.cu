// cuda/elementwise.cu: the CUDA kernels of ops/elementwise.cpp (pointwise maths, comparisons, where, masked_fill),
// instantiated for the GPU: the kernels themselves are in cuda/elementwise_impl.h.
#include "cuda/elementwise_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_elementwise_kernels(kernels::BackendKernels& k) { impl::add_elementwise_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
