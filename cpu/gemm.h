// cpu/gemm.h: one row-major matrix product on Eigen's blocked GEMM, shared by
// the CPU kernels that multiply matrices (linalg, the Toeplitz convolution).
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace seqboat::cpu {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MapC = Eigen::Map<const RowMat<T>>;
template <class T>
using MapM = Eigen::Map<RowMat<T>>;

// C[m, n] = op(A) op(B) (+= when accumulate) for contiguous row-major A, B:
// A is (m, k), or (k, m) when ta; B is (k, n), or (n, k) when tb.
template <class T>
void gemm(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb, bool accumulate) {
  MapM<T> C(c, m, n);
  auto run = [&](const auto& A, const auto& B) {
    if (accumulate) C.noalias() += A * B;
    else C.noalias() = A * B;
  };
  if (!ta && !tb) run(MapC<T>(a, m, k), MapC<T>(b, k, n));
  else if (ta && !tb) run(MapC<T>(a, k, m).transpose(), MapC<T>(b, k, n));
  else if (!ta && tb) run(MapC<T>(a, m, k), MapC<T>(b, n, k).transpose());
  else run(MapC<T>(a, k, m).transpose(), MapC<T>(b, n, k).transpose());
}

}  // namespace seqboat::cpu
