// cuda/ssm.cu: the CUDA kernels of ops/ssm.cpp (EMA kernel, SSM convolution (direct or cuFFT), rotary,
// relative-position bias), instantiated for the GPU: the kernels themselves are in cuda/ssm_impl.h.
#include "cuda/ssm_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_ssm_kernels(kernels::BackendKernels& k) { impl::add_ssm_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
