// device/runtime.h: the CUDA runtime state the backend shares, as plain C++
// declarations (device/memory.cu defines them): the process's stream, checked
// calls, and the switch for TF32 tensor-core GEMMs.
#pragma once

#include <cstddef>
#include <string>

namespace seqboat::cuda {

// Throws std::runtime_error "CUDA error in <what>: <error string>" unless
// `status` (a cudaError_t) is success.
void check_status(int status, const char* what);

// The one stream every kernel, copy and library call of this process runs on
// (created on first use), as a cudaStream_t.
void* stream();

// Waits until all work on the stream has finished; checks for errors of
// earlier asynchronous launches, naming `what`.
void synchronize(const char* what);

// Temporary device memory from the caching allocator (device/memory.h).
void* scratch_alloc(size_t bytes);
void scratch_free(void* p);

// TF32 tensor-core math for float32 GEMMs: off by default, so float32 results
// match the CPU to float32 precision; SEQBOAT_TF32=1 in the environment or
// set_tf32(true) turns it on.
bool tf32_enabled();
void set_tf32(bool on);

}  // namespace seqboat::cuda
