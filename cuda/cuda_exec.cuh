// cuda/cuda_exec.cuh: the GPU executor for the CUDA backend's kernels
// (cuda/exec.h): work items as grid-stride CUDA kernels on the process's
// stream, GEMM through cuBLAS (TF32 only when switched on), real FFTs through
// cuFFT with cached plans, scratch from the caching allocator. Every launch
// and library call is checked; a failure throws naming the call.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cufft.h>

#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>

#include "cuda/exec.h"
#include "cuda/libraries.cuh"
#include "device/runtime.h"
#include "kernels/linalg.h"

namespace seqboat::cuda {

template <class F>
__global__ void for_each_kernel(int64_t n, F f) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}

// One block per row (grid-stride over rows): lane t sums its strided terms in
// order, BlockReduce combines the lanes in the fixed order of its tree.
template <class Acc, class Term, class Store>
__global__ void reduce_rows_kernel(int64_t rows, int64_t n, Term term, Store store) {
  using Reduce = cub::BlockReduce<Acc, kReduceThreads>;
  __shared__ typename Reduce::TempStorage temp;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    Acc part = 0;
    for (int64_t i = threadIdx.x; i < n; i += kReduceThreads) part += term(r, i);
    const Acc total = Reduce(temp).Sum(part);
    if (threadIdx.x == 0) store(r, total);
    __syncthreads();  // temp is reused for the next row
  }
}

// ex.reduce_cols: block (tile, chunk) sums 32 consecutive columns over one
// chunk of rows; thread (lane, x) takes column tile * 32 + x and rows
// chunk * kColChunk + lane, + kColLanes, ...; lane 0 adds the lanes in order.
template <class Acc, class Term>
__global__ void reduce_cols_kernel(int64_t cols, int64_t n, int64_t tiles, int64_t chunks, Term term, Acc* partial) {
  __shared__ Acc lanes[kColLanes][32];
  const int x = static_cast<int>(threadIdx.x % 32), lane = static_cast<int>(threadIdx.x / 32);
  for (int64_t blk = blockIdx.x; blk < tiles * chunks; blk += gridDim.x) {
    const int64_t c = (blk % tiles) * 32 + x, k = blk / tiles;
    const int64_t i0 = k * kColChunk, i1 = i0 + kColChunk < n ? i0 + kColChunk : n;
    Acc part = 0;
    if (c < cols)
      for (int64_t i = i0 + lane; i < i1; i += kColLanes) part += term(c, i);
    lanes[lane][x] = part;
    __syncthreads();
    if (lane == 0 && c < cols) {
      Acc chunk = 0;
      for (int l = 0; l < kColLanes; ++l) chunk += lanes[l][x];
      partial[k * cols + c] = chunk;
    }
    __syncthreads();  // lanes is reused for the next block
  }
}

// One block per row; the row in tiles of kBlockThreads items, each tile an
// exclusive BlockScan plus the running total of the tiles before it.
template <class Count, class Visit>
__global__ void scan_rows_kernel(int64_t rows, int64_t n, Count count, Visit visit) {
  using Scan = cub::BlockScan<int64_t, kBlockThreads>;
  __shared__ typename Scan::TempStorage temp;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    int64_t carried = 0;
    for (int64_t base = 0; base < n; base += kBlockThreads) {
      const int64_t i = base + threadIdx.x;
      const int64_t c = i < n ? count(r, i) : 0;
      int64_t before = 0, tile_total = 0;
      Scan(temp).ExclusiveSum(c, before, tile_total);
      if (i < n) visit(r, i, carried + before);
      carried += tile_total;
      __syncthreads();  // temp is reused for the next tile
    }
  }
}

// ex.for_blocks: the phases in order, a barrier after each (cuda/exec.h).
template <class... Phases>
__global__ void blocks_kernel(int64_t blocks, int64_t steps, Phases... phases) {
  extern __shared__ __align__(16) unsigned char block_shared[];
  for (int64_t block = blockIdx.x; block < blocks; block += gridDim.x)
    for (int64_t step = 0; step < steps; ++step)
      ((phases(block, step, static_cast<int>(threadIdx.x), block_shared), __syncthreads()), ...);
}

// Blocks for a grid-stride kernel over `wanted` units: one each, at most 2^20.
inline int grid_blocks(int64_t wanted) { return static_cast<int>(wanted < (1 << 20) ? wanted : (1 << 20)); }

inline cudaStream_t cuda_stream() { return static_cast<cudaStream_t>(stream()); }

inline const char* cublas_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "cuBLAS error";
  }
}

inline void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLAS error in ") + what + ": " + cublas_status_name(s));
}

inline void check_cufft(cufftResult r, const char* what) {
  if (r != CUFFT_SUCCESS)
    throw std::runtime_error(std::string("cuFFT error in ") + what + ": cufftResult " +
                             std::to_string(static_cast<int>(r)));
}

// The process's cuBLAS handle, bound to the stream; its math mode follows
// the TF32 switch at every call.
inline cublasHandle_t cublas_handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t created = nullptr;
    check_cublas(cublas().create(&created), "cublasCreate");
    check_cublas(cublas().set_stream(created, cuda_stream()), "cublasSetStream");
    return created;
  }();
  check_cublas(cublas().set_math_mode(h, tf32_enabled() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
               "cublasSetMathMode");
  return h;
}

struct CudaExec {
  template <class F>
  void for_each(int64_t n, F f) {
    if (n <= 0) return;
    constexpr int threads = 256;
    const int blocks = grid_blocks((n + threads - 1) / threads);
    for_each_kernel<<<blocks, threads, 0, cuda_stream()>>>(n, f);
    check_status(cudaGetLastError(), "kernel launch (for_each)");
  }

  template <class Acc, class Term, class Store>
  void reduce_rows(int64_t rows, int64_t n, Term term, Store store) {
    if (rows <= 0) return;
    if (n < kReduceThreads) {
      for_each(rows, [=] __device__(int64_t r) {
        Acc total = 0;
        for (int64_t i = 0; i < n; ++i) total += term(r, i);
        store(r, total);
      });
      return;
    }
    const int blocks = grid_blocks(rows);
    reduce_rows_kernel<Acc><<<blocks, kReduceThreads, 0, cuda_stream()>>>(rows, n, term, store);
    check_status(cudaGetLastError(), "kernel launch (reduce_rows)");
  }

  template <class Acc, class Term, class Store>
  void reduce_cols(int64_t cols, int64_t n, Term term, Store store) {
    if (cols <= 0) return;
    const int64_t chunks = n > 0 ? (n + kColChunk - 1) / kColChunk : 1, tiles = (cols + 31) / 32;
    Buffer<Acc> partial(chunks * cols);
    Acc* part = partial.get();
    const int grid = grid_blocks(tiles * chunks);
    reduce_cols_kernel<Acc><<<grid, 32 * kColLanes, 0, cuda_stream()>>>(cols, n, tiles, chunks, term, part);
    check_status(cudaGetLastError(), "kernel launch (reduce_cols)");
    for_each(cols, [=] __device__(int64_t c) {  // the chunks in order
      Acc total = 0;
      for (int64_t k = 0; k < chunks; ++k) total += part[k * cols + c];
      store(c, total);
    });
  }

  template <class Count, class Visit>
  void scan_rows(int64_t rows, int64_t n, Count count, Visit visit) {
    if (rows <= 0 || n <= 0) return;
    const int blocks = grid_blocks(rows);
    scan_rows_kernel<<<blocks, kBlockThreads, 0, cuda_stream()>>>(rows, n, count, visit);
    check_status(cudaGetLastError(), "kernel launch (scan_rows)");
  }

  // The shared memory a block may opt in to on this device (227 KiB on Hopper).
  static size_t shared_limit() {
    static const size_t limit = [] {
      int device = 0, bytes = 0;
      check_status(cudaGetDevice(&device), "cudaGetDevice");
      check_status(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
                   "cudaDeviceGetAttribute (shared memory per block)");
      return static_cast<size_t>(bytes);
    }();
    return limit;
  }

  template <class... Phases>
  void for_blocks(int64_t blocks, int64_t steps, size_t shared_bytes, Phases... phases) {
    if (blocks <= 0 || steps <= 0) return;
    if (shared_bytes > 48 * 1024)  // above the default a kernel must opt in
      check_status(cudaFuncSetAttribute(blocks_kernel<Phases...>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(shared_bytes)),
                   "cudaFuncSetAttribute (dynamic shared memory)");
    const int grid = grid_blocks(blocks);
    blocks_kernel<<<grid, kBlockThreads, shared_bytes, cuda_stream()>>>(blocks, steps, phases...);
    check_status(cudaGetLastError(), "kernel launch (for_blocks)");
  }

  template <class T>
  class Buffer {
   public:
    explicit Buffer(int64_t n) : p_(static_cast<T*>(scratch_alloc(sizeof(T) * static_cast<size_t>(n > 0 ? n : 1)))) {}
    ~Buffer() { scratch_free(p_); }
    Buffer(Buffer&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    T* get() { return p_; }

   private:
    T* p_;
  };
  template <class T>
  Buffer<T> scratch(int64_t n) {
    return Buffer<T>(n);
  }

  void to_host(void* dst, const void* src, size_t bytes) {
    check_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cuda_stream()),
                 "cudaMemcpyAsync device->host");
    synchronize("cudaMemcpyAsync device->host");
  }

  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS
  // gets B first. A row-major (r, c) matrix is a column-major (c, r) one.
  template <class T>
  void gemm(const kernels::GemmShape& s, const T* a, const T* b, T* c) {
    if (s.batch == 0 || s.m == 0 || s.n == 0) return;
    const cublasOperation_t op_b = s.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_a = s.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const int ldb = static_cast<int>(s.trans_b ? s.k : s.n);
    const int lda = static_cast<int>(s.trans_a ? s.m : s.k);
    const int ldc = static_cast<int>(s.n);
    const T alpha = 1, beta = s.accumulate ? 1 : 0;
    if (s.k == 0) {  // an empty sum: C = 0 (or unchanged)
      const int64_t elements = s.batch == 1 ? s.m * s.n : s.batch * s.stride_c;
      if (!s.accumulate) check_status(cudaMemsetAsync(c, 0, sizeof(T) * elements, cuda_stream()), "gemm (k = 0)");
      return;
    }
    if constexpr (sizeof(T) == 4)
      check_cublas(
          cublas().sgemm_strided_batched(cublas_handle(), op_b, op_a, static_cast<int>(s.n), static_cast<int>(s.m),
                                         static_cast<int>(s.k), &alpha, b, ldb, s.stride_b, a, lda, s.stride_a, &beta,
                                         c, ldc, s.stride_c, static_cast<int>(s.batch)),
          "cublasSgemmStridedBatched");
    else
      check_cublas(
          cublas().dgemm_strided_batched(cublas_handle(), op_b, op_a, static_cast<int>(s.n), static_cast<int>(s.m),
                                         static_cast<int>(s.k), &alpha, b, ldb, s.stride_b, a, lda, s.stride_a, &beta,
                                         c, ldc, s.stride_c, static_cast<int>(s.batch)),
          "cublasDgemmStridedBatched");
  }

  template <class T>
  void fft_r2c(int64_t batch, int64_t n, const T* in, Cplx<T>* out) {
    if (batch == 0) return;
    cufftHandle plan = fft_plan(n, batch, sizeof(T) == 4 ? CUFFT_R2C : CUFFT_D2Z);
    if constexpr (sizeof(T) == 4)
      check_cufft(cufft().exec_r2c(plan, const_cast<float*>(in), reinterpret_cast<cufftComplex*>(out)), "cufftExecR2C");
    else
      check_cufft(cufft().exec_d2z(plan, const_cast<double*>(in), reinterpret_cast<cufftDoubleComplex*>(out)),
                  "cufftExecD2Z");
  }

  // Unnormalised; cuFFT may overwrite `in`, which callers never read again.
  template <class T>
  void fft_c2r(int64_t batch, int64_t n, Cplx<T>* in, T* out) {
    if (batch == 0) return;
    cufftHandle plan = fft_plan(n, batch, sizeof(T) == 4 ? CUFFT_C2R : CUFFT_Z2D);
    if constexpr (sizeof(T) == 4)
      check_cufft(cufft().exec_c2r(plan, reinterpret_cast<cufftComplex*>(in), out), "cufftExecC2R");
    else check_cufft(cufft().exec_z2d(plan, reinterpret_cast<cufftDoubleComplex*>(in), out), "cufftExecZ2D");
  }

 private:
  // Batched 1-D plans, one per (size, batch, type), bound to the stream.
  static cufftHandle fft_plan(int64_t n, int64_t batch, cufftType type) {
    static std::mutex mutex;
    static std::map<std::tuple<int64_t, int64_t, int>, cufftHandle> plans;
    std::lock_guard<std::mutex> lock(mutex);
    auto key = std::make_tuple(n, batch, static_cast<int>(type));
    auto it = plans.find(key);
    if (it != plans.end()) return it->second;
    cufftHandle plan;
    int size = static_cast<int>(n);
    const bool forward = type == CUFFT_R2C || type == CUFFT_D2Z;
    const int bins = static_cast<int>(n / 2 + 1);
    check_cufft(cufft().plan_many(&plan, 1, &size, nullptr, 1, forward ? size : bins, nullptr, 1, forward ? bins : size,
                                  type, static_cast<int>(batch)),
                "cufftPlanMany");
    check_cufft(cufft().set_stream(plan, cuda_stream()), "cufftSetStream");
    plans.emplace(key, plan);
    return plan;
  }
};

}  // namespace seqboat::cuda
