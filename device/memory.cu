// device/memory.cu: device memory for CUDA tensors and the runtime state of the
// CUDA backend (device/memory.h, device/runtime.h).
//
// Caching allocator: requests are rounded up to 512 bytes (1 MiB for large
// ones) and served from blocks freed earlier when one of at least that size
// and at most twice it is cached; otherwise cudaMalloc, and when that fails,
// every cached block is released and cudaMalloc tried once more. Never managed
// memory. All work is ordered on one stream, so a block freed after the
// launches that used it can be handed to the next launch at once.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "device/memory.h"
#include "device/runtime.h"

namespace seqboat::cuda {

void check_status(int status, const char* what) {
  const cudaError_t err = static_cast<cudaError_t>(status);
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}

void* stream() {
  static cudaStream_t s = [] {
    cudaStream_t created = nullptr;
    check_status(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    return created;
  }();
  return s;
}

void synchronize(const char* what) { check_status(cudaStreamSynchronize(static_cast<cudaStream_t>(stream())), what); }

namespace {

class CachingAllocator {
 public:
  void* allocate(size_t bytes) {
    const size_t size = rounded(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.lower_bound(size);
    if (it != free_.end() && it->first <= 2 * size) {
      void* p = it->second;
      live_[p] = it->first;
      cached_bytes_ -= it->first;
      note_live(it->first);
      free_.erase(it);
      return p;
    }
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, size);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();  // clear the error, release the cache, try again
      release_cached();
      err = cudaMalloc(&p, size);
    }
    if (err != cudaSuccess)
      throw std::runtime_error("CUDA error in cudaMalloc of " + std::to_string(size) +
                               " bytes: " + cudaGetErrorString(err));
    live_[p] = size;
    note_live(size);
    return p;
  }

  void release(void* p) {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(p);
    if (it == live_.end()) return;
    free_.emplace(it->second, p);
    cached_bytes_ += it->second;
    live_bytes_ -= it->second;
    live_.erase(it);
  }

  size_t live_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_bytes_;
  }
  size_t peak_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return peak_bytes_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    peak_bytes_ = live_bytes_;
  }

 private:
  static size_t rounded(size_t bytes) {
    const size_t unit = bytes >= (size_t{1} << 20) ? (size_t{1} << 20) : 512;
    return (std::max<size_t>(bytes, 1) + unit - 1) / unit * unit;
  }
  void release_cached() {
    cudaStreamSynchronize(static_cast<cudaStream_t>(stream()));
    for (auto& [size, p] : free_) cudaFree(p);
    free_.clear();
    cached_bytes_ = 0;
  }

  void note_live(size_t bytes) {
    live_bytes_ += bytes;
    peak_bytes_ = std::max(peak_bytes_, live_bytes_);
  }

  std::mutex mutex_;
  size_t live_bytes_ = 0, peak_bytes_ = 0;
  std::multimap<size_t, void*> free_;
  std::unordered_map<void*, size_t> live_;
  size_t cached_bytes_ = 0;
};

CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();  // never destroyed: tensors may outlive statics
  return *a;
}

bool g_tf32 = [] {
  const char* v = std::getenv("SEQBOAT_TF32");
  return v && std::string(v) == "1";
}();

}  // namespace

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
  check_status(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
         std::to_string(prop.totalGlobalMem >> 30) + " GiB)";
}

void* device_malloc(size_t nbytes) { return allocator().allocate(nbytes); }
void device_free(void* p) { allocator().release(p); }
void* scratch_alloc(size_t bytes) { return allocator().allocate(bytes); }
void scratch_free(void* p) { allocator().release(p); }

// Host <-> device copies go through the stream and wait for it: the host
// buffer may be pageable and may be reused as soon as the call returns.
void copy_to_device(void* dst, const void* src, size_t nbytes) {
  cudaStream_t s = static_cast<cudaStream_t>(stream());
  check_status(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, s), "cudaMemcpyAsync host->device");
  synchronize("cudaMemcpyAsync host->device");
}

void copy_to_host(void* dst, const void* src, size_t nbytes) {
  cudaStream_t s = static_cast<cudaStream_t>(stream());
  check_status(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync device->host");
  synchronize("cudaMemcpyAsync device->host");
}

void copy_device_to_device(void* dst, const void* src, size_t nbytes) {
  check_status(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, static_cast<cudaStream_t>(stream())),
               "cudaMemcpyAsync device->device");
}

void device_memset_zero(void* dst, size_t nbytes) {
  check_status(cudaMemsetAsync(dst, 0, nbytes, static_cast<cudaStream_t>(stream())), "cudaMemsetAsync");
}

void synchronize_device() { synchronize("synchronize_device"); }
size_t current_device_memory() { return allocator().live_bytes(); }
size_t peak_device_memory() { return allocator().peak_bytes(); }
void reset_peak_device_memory() { allocator().reset_peak(); }

bool tf32_enabled() { return g_tf32; }
void set_tf32(bool on) { g_tf32 = on; }

}  // namespace seqboat::cuda
