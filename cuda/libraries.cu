// cuda/libraries.cu: see libraries.cuh.
#include <dlfcn.h>

#include <stdexcept>
#include <string>

#include "cuda/libraries.cuh"

namespace seqboat::cuda {

namespace {

// The library of this toolkit's major version (what the headers were built
// for), else the unversioned name.
void* open_library(const std::string& base, int major) {
  const std::string versioned = base + ".so." + std::to_string(major);
  if (void* h = dlopen(versioned.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
  if (void* h = dlopen((base + ".so").c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
  const char* why = dlerror();
  throw std::runtime_error("cannot load " + versioned + ": " + (why ? why : "unknown reason"));
}

template <class F>
void resolve(void* library, const char* library_name, const char* symbol, F& out) {
  void* p = dlsym(library, symbol);
  if (!p) throw std::runtime_error(std::string(library_name) + " has no symbol " + symbol);
  out = reinterpret_cast<F>(p);
}

}  // namespace

const CublasApi& cublas() {
  static const CublasApi api = [] {
    void* lib = open_library("libcublas", CUBLAS_VER_MAJOR);
    CublasApi a{};
    resolve(lib, "libcublas", "cublasCreate_v2", a.create);
    resolve(lib, "libcublas", "cublasSetStream_v2", a.set_stream);
    resolve(lib, "libcublas", "cublasSetMathMode", a.set_math_mode);
    resolve(lib, "libcublas", "cublasSgemmStridedBatched", a.sgemm_strided_batched);
    resolve(lib, "libcublas", "cublasDgemmStridedBatched", a.dgemm_strided_batched);
    return a;
  }();
  return api;
}

const CufftApi& cufft() {
  static const CufftApi api = [] {
    void* lib = open_library("libcufft", CUFFT_VER_MAJOR);
    CufftApi a{};
    resolve(lib, "libcufft", "cufftPlanMany", a.plan_many);
    resolve(lib, "libcufft", "cufftSetStream", a.set_stream);
    resolve(lib, "libcufft", "cufftExecR2C", a.exec_r2c);
    resolve(lib, "libcufft", "cufftExecD2Z", a.exec_d2z);
    resolve(lib, "libcufft", "cufftExecC2R", a.exec_c2r);
    resolve(lib, "libcufft", "cufftExecZ2D", a.exec_z2d);
    return a;
  }();
  return api;
}

}  // namespace seqboat::cuda
