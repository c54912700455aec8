// kernels/common.h: what every kernel signature is made of. A kernel is a
// plain function over raw buffers of one device and sizes; the op in ops/
// checks the arguments, allocates outputs and records autograd, then calls
// the kernel of the tensors' device and dtype (kernels/table.h). Nothing
// here allocates, throws on user input or knows about autograd.
//
// This header is included by the ops layer and by every backend (cpu/, cuda/),
// so it holds only plain data: no Tensor, no std::vector in signatures.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define SEQBOAT_HOST_DEVICE __host__ __device__
#else
#define SEQBOAT_HOST_DEVICE
#endif

namespace seqboat::kernels {

// The most dims a strided kernel argument may have (ops check and say so).
constexpr int kMaxDims = 8;

// A strided iteration space: `ndim` sizes and, for each of up to three
// operands, the stride (in elements) of every dim. Broadcast dims have stride
// 0. Passed by value, so a CUDA kernel can take it as an argument.
struct StridedShape {
  int32_t ndim = 0;
  int64_t size[kMaxDims] = {};
  int64_t numel() const {
    int64_t n = 1;
    for (int32_t d = 0; d < ndim; ++d) n *= size[d];
    return n;
  }
};

struct Strides {
  int64_t step[kMaxDims] = {};
};

}  // namespace seqboat::kernels
