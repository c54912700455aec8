// cuda/ema_scan.cu: the CUDA kernels of ops/ema_scan.cpp (the EMA
// recurrences), instantiated for the GPU: the kernels are in
// cuda/ema_scan_impl.h.
#include "cuda/ema_scan_impl.h"
#include "cuda/backend.h"
#include "cuda/cuda_exec.cuh"

namespace seqboat::cuda {

void add_ema_scan_kernels(kernels::BackendKernels& k) { impl::add_ema_scan_kernels<CudaExec>(k); }

}  // namespace seqboat::cuda
