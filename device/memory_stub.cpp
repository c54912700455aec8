// device/memory_stub.cpp: CPU-only build. Every CUDA entry point explains that
// this build has no CUDA backend (configure with -DSEQBOAT_CUDA=ON to add it).
#include <stdexcept>

#include "device/memory.h"

namespace seqboat::cuda {

static const char* kNoCuda =
    "this seqboat build has no CUDA backend (configure with -DSEQBOAT_CUDA=ON on a machine with nvcc)";

bool compiled_with_cuda() { return false; }
bool is_available() { return false; }
std::string device_description() { return "none (built without CUDA)"; }
void* device_malloc(size_t) { throw std::runtime_error(kNoCuda); }
void device_free(void*) {}
void copy_to_device(void*, const void*, size_t) { throw std::runtime_error(kNoCuda); }
void copy_to_host(void*, const void*, size_t) { throw std::runtime_error(kNoCuda); }
void copy_device_to_device(void*, const void*, size_t) { throw std::runtime_error(kNoCuda); }
void device_memset_zero(void*, size_t) { throw std::runtime_error(kNoCuda); }
void synchronize_device() {}
size_t current_device_memory() { return 0; }
size_t peak_device_memory() { return 0; }
void reset_peak_device_memory() {}

}  // namespace seqboat::cuda
