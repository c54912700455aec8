// cuda/libraries.cuh: cuBLAS and cuFFT, loaded on first use with dlopen
// rather than linked. Linked, the two libraries' start-up code runs in every
// process, GPU or not, and adds about 200 MiB to the resident memory of a
// CPU-only run; loaded on demand, only a process that multiplies or
// transforms on the GPU pays for them. A library that cannot be loaded is an
// error naming it and dlerror()'s reason.
#pragma once

#include <cublas_v2.h>
#include <cufft.h>

namespace seqboat::cuda {

struct CublasApi {
  decltype(&cublasCreate_v2) create;
  decltype(&cublasSetStream_v2) set_stream;
  decltype(&cublasSetMathMode) set_math_mode;
  decltype(&cublasSgemmStridedBatched) sgemm_strided_batched;
  decltype(&cublasDgemmStridedBatched) dgemm_strided_batched;
};

struct CufftApi {
  decltype(&cufftPlanMany) plan_many;
  decltype(&cufftSetStream) set_stream;
  decltype(&cufftExecR2C) exec_r2c;
  decltype(&cufftExecD2Z) exec_d2z;
  decltype(&cufftExecC2R) exec_c2r;
  decltype(&cufftExecZ2D) exec_z2d;
};

// The functions, resolved once (throws std::runtime_error when the library or
// a symbol is missing).
const CublasApi& cublas();
const CufftApi& cufft();

}  // namespace seqboat::cuda
