// cuda/linalg_impl.h: CUDA kernels of ops/linalg.cpp (kernels/linalg.h)
// over an executor (cuda/exec.h): the products are the executor's GEMM
// (cuBLAS on the GPU); the bias is a broadcast and a column sum.
#pragma once

#include "cuda/exec.h"
#include "kernels/linalg.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

template <class Exec, class T>
void gemm(Exec& ex, const kernels::GemmShape& s, const T* a, const T* b, T* c) {
  ex.gemm(s, a, b, c);
}

// Y = bias in every row (or 0), then Y += X W^T.
template <class Exec, class T>
void linear_forward(Exec& ex, int64_t rows, int64_t in, int64_t out, const T* x, const T* w, const T* bias, T* y) {
  ex.for_each(rows * out, [=] SEQBOAT_HOST_DEVICE(int64_t e) { y[e] = bias ? bias[e % out] : T(0); });
  kernels::GemmShape s;
  s.m = rows;
  s.n = out;
  s.k = in;
  s.trans_b = true;
  s.accumulate = true;
  ex.gemm(s, x, w, y);
}

template <class Exec, class T>
void linear_backward(Exec& ex, int64_t rows, int64_t in, int64_t out, const T* x, const T* w, const T* g, T* dx, T* dw,
                     T* db) {
  if (dx) {  // dx (rows, in) = g W
    kernels::GemmShape s;
    s.m = rows;
    s.n = in;
    s.k = out;
    ex.gemm(s, g, w, dx);
  }
  if (dw) {  // dW (out, in) = g^T x
    kernels::GemmShape s;
    s.m = out;
    s.n = in;
    s.k = rows;
    s.trans_a = true;
    ex.gemm(s, g, x, dw);
  }
  if (db)  // db = column sums of g, rows in order
    ex.for_each(out, [=] SEQBOAT_HOST_DEVICE(int64_t j) {
      T acc = 0;
      for (int64_t r = 0; r < rows; ++r) acc += g[r * out + j];
      db[j] = acc;
    });
}

// The linalg kernels of executor Exec, for the kernel table.
template <class Exec>
void add_linalg_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.gemm = &Bound<&gemm<Exec, T>>::call;
    t.linear_forward = &Bound<&linear_forward<Exec, T>>::call;
    t.linear_backward = &Bound<&linear_backward<Exec, T>>::call;
  });
}

}  // namespace seqboat::cuda::impl
