// tensor/checked.h: size arithmetic for untrusted numbers. Shapes and sizes
// come from files (safetensors headers, checkpoints, golden configs) and from
// configs; every product or sum that sizes an allocation goes through these
// helpers, so an overflow or an absurd size is an error naming what was being
// sized instead of a wrapped number, a tiny allocation and a later segfault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace seqboat {

// A size that overflows 64-bit arithmetic or exceeds the allocation limit.
// A std::length_error, so callers that catch "bad size" errors see it.
struct SizeError : std::length_error {
  using length_error::length_error;
};

// a * b for non-negative int64 values; throws SizeError naming `what` when
// the result does not fit int64.
int64_t checked_mul(int64_t a, int64_t b, const std::string& what);

// Elements of a shape. Every dim must be >= 0, and the product of the dims
// counting a 0 as 1 must fit int64 together with an 8-byte element: strides
// are products of the dims after each one, so a shape like [0, 2^61, 6]
// (zero elements) would still overflow them.
int64_t checked_numel(const std::vector<int64_t>& shape, const char* what);  // hot: no string built unless it throws

// numel * element_size as bytes, checked against max_allocation_bytes().
size_t checked_nbytes(int64_t numel, size_t element_size, const std::string& what);

// The largest single allocation seqboat attempts: the machine's physical
// memory, or SEQBOAT_MAX_ALLOC_BYTES when set (tests, sandboxes). Larger
// requests fail with a SizeError that says how much was asked for, before
// malloc or mmap can abort or the kernel's overcommit lets it fault later.
size_t max_allocation_bytes();
void check_allocation(size_t bytes, const std::string& what);

// "12.0 GiB"-style text for messages.
std::string bytes_text(double bytes);

}  // namespace seqboat
