// cuda/memory.cu: device memory for CUDA tensors (cudaMalloc / cudaMemcpy).
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "cuda/memory.h"

namespace seqboat::cuda {

static void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}

bool compiled_with_cuda() { return true; }

bool is_available() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

std::string device_description() {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) return std::string("none (") + cudaGetErrorString(err) + ")";
  if (n == 0) return "none (no CUDA device)";
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
         std::to_string(prop.totalGlobalMem >> 30) + " GiB)";
}

void* device_malloc(size_t nbytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, nbytes), "cudaMalloc");
  return p;
}

void device_free(void* p) {
  if (p) cudaFree(p);
}

void copy_to_device(void* dst, const void* src, size_t nbytes) {
  check(cudaMemcpy(dst, src, nbytes, cudaMemcpyHostToDevice), "cudaMemcpy host->device");
}

void copy_to_host(void* dst, const void* src, size_t nbytes) {
  check(cudaMemcpy(dst, src, nbytes, cudaMemcpyDeviceToHost), "cudaMemcpy device->host");
}

void copy_device_to_device(void* dst, const void* src, size_t nbytes) {
  check(cudaMemcpy(dst, src, nbytes, cudaMemcpyDeviceToDevice), "cudaMemcpy device->device");
}

void device_memset_zero(void* dst, size_t nbytes) { check(cudaMemset(dst, 0, nbytes), "cudaMemset"); }

}  // namespace seqboat::cuda
