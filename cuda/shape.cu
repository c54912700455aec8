// cuda/shape.cu: the CUDA kernels of ops/shape.cpp (strided copies and dtype conversion),
// instantiated for the GPU: the kernels themselves are in cuda/shape_impl.h.
#include "cuda/shape_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_shape_kernels(kernels::BackendKernels& k) { impl::add_shape_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
