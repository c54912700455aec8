// tensor/host_allocator.h: the memory behind CPU tensors. Small blocks come
// from malloc; blocks of 256 KiB and more are whole pages from mmap, kept in a
// cache when freed and handed out again for a request of the same size or
// down to half of it. Training allocates the same
// shapes every step, so after the first step almost nothing is mapped and
// no page is faulted in anew, and the process holds about its peak of live
// tensor memory: the cache is trimmed (largest blocks first) whenever cached
// plus live bytes would exceed that peak by more than 1/8 (or 16 MiB).
#pragma once

#include <cstddef>

namespace seqboat {

// 64-byte aligned, never null (throws std::bad_alloc).
void* host_allocate(size_t bytes);
// `bytes` must be what was asked of host_allocate for p.
void host_release(void* p, size_t bytes);

// Gives the freed blocks kept for reuse back to the system.
void host_release_cache();

}  // namespace seqboat
