// cuda/nn_ops.cu: the CUDA kernels of ops/nn_ops.cpp (softmax, cross_entropy, layer_norm, batch_norm, embedding,
// dropout), instantiated for the GPU: the kernels themselves are in cuda/nn_ops_impl.h.
#include "cuda/nn_ops_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_nn_ops_kernels(kernels::BackendKernels& k) { impl::add_nn_ops_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
