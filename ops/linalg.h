// ops/linalg.h: matrix products (the gemm kernels; on the CPU a blocked GEMM).
//
//   matmul(a, b): (..., M, K) x (..., K, N) -> (..., M, N), batch dims broadcast
//       da = g b^T (summed over broadcast batch dims), db = a^T g
//   linear(x, W, c) = x W^T + c, W stored (out, in) as in PyTorch
//       dx = g W,  dW = g^T x (over all leading dims),  dc = sum g
#pragma once

#include "tensor/tensor.h"

namespace seqboat {

Tensor matmul(const Tensor& a, const Tensor& b);
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace seqboat
