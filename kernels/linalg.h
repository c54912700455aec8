// kernels/linalg.h: kernels of ops/linalg.cpp. All matrices are
// row-major and contiguous.
#pragma once

#include "kernels/common.h"

namespace seqboat::kernels {

// For b < batch: C_b (m, n) = op(A_b) op(B_b), or += when accumulate, where
// op(A) is A (m, k), or A^T for A stored (k, m) when trans_a (same for B:
// (k, n), or (n, k) when trans_b). A_b starts at a + b stride_a, etc.
struct GemmShape {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false, accumulate = false;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
};
template <class T>
using GemmFn = void(const GemmShape& shape, const T* a, const T* b, T* c);

// y (rows, out) = x (rows, in) W^T + bias, W stored (out, in); bias may be null.
template <class T>
using LinearFn = void(int64_t rows, int64_t in, int64_t out, const T* x, const T* w, const T* bias, T* y);
// dx = g W (rows, in), dW = g^T x (out, in), db = column sums of g; a null
// output is not computed.
template <class T>
using LinearBackwardFn = void(int64_t rows, int64_t in, int64_t out, const T* x, const T* w, const T* g, T* dx, T* dw,
                              T* db);

}  // namespace seqboat::kernels

// The kernel table's rows of this family (kernels/table.h).
#define SEQBOAT_KERNELS_linalg(K, U)            \
  K(linalg, gemm, GemmFn)                       \
  K(linalg, linear_forward, LinearFn)           \
  K(linalg, linear_backward, LinearBackwardFn)
