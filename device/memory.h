// device/memory.h: the device-memory entry points the tensor core plugs into.
// Built from device/memory.cu when CUDA is enabled (SEQBOAT_CUDA), otherwise from
// device/memory_stub.cpp, whose functions throw a clear error.
#pragma once

#include <cstddef>
#include <string>

namespace seqboat::cuda {

bool compiled_with_cuda();
bool is_available();               // a CUDA device is present and usable
std::string device_description();  // e.g. "NVIDIA H100 (sm_90, 80 GiB)" or why none
void* device_malloc(size_t nbytes);
void device_free(void* p);
void copy_to_device(void* dst, const void* src, size_t nbytes);
void copy_to_host(void* dst, const void* src, size_t nbytes);
void copy_device_to_device(void* dst, const void* src, size_t nbytes);
// Waits for all work queued on the device (a no-op without CUDA).
void synchronize_device();
// Bytes of device memory held by tensors and scratch now, and at most since
// the last reset (0 without CUDA).
size_t current_device_memory();
size_t peak_device_memory();
void reset_peak_device_memory();
void device_memset_zero(void* dst, size_t nbytes);

}  // namespace seqboat::cuda
