// cuda/attention.cu: the CUDA kernels of ops/attention.cpp (fused local attention),
// instantiated for the GPU: the kernels themselves are in cuda/attention_impl.h.
#include "cuda/attention_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_attention_kernels(kernels::BackendKernels& k) { impl::add_attention_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
