// cuda/position.cu: the CUDA kernels of ops/position.cpp (rotary, rel_pos_bias_gather),
// instantiated for the GPU: the kernels themselves are in cuda/position_impl.h.
#include "cuda/position_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_position_kernels(kernels::BackendKernels& k) { impl::add_position_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
