// cuda/exec.h: how the CUDA backend's kernels are written. Every kernel in
// cuda/<family>_impl.h is a template over an executor `Exec` and computes its
// outputs as independent per-index work items, each an ordinary loop:
//
//   ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { out[i] = ...; });
//
// plus a few library calls: ex.gemm (batched row-major GEMM), ex.fft_r2c /
// ex.fft_c2r (batched real FFTs, unnormalised), ex.scratch<T>(n) (a temporary
// buffer on the executor's device) and ex.to_host (bring a few values back).
//
// Two executors implement this:
//   CudaExec (cuda/cuda_exec.cuh)  grid-stride CUDA kernels on the process's
//                                  stream, cuBLAS, cuFFT, the caching allocator;
//   HostExec (cuda/host_exec.h)    the same work items as plain loops on the
//                                  host, naive GEMM and DFT.
// cuda/<family>.cu instantiates the kernels with CudaExec for the GPU; the
// test suite instantiates them with HostExec and runs the whole op table
// through them against the CPU backend (tests/test_cuda_logic.cpp), so the
// arithmetic and index logic of every CUDA kernel is checked on any machine.
//
// Long reductions use one more primitive,
//
//   ex.template reduce_rows<Acc>(rows, n, [=] SEQBOAT_HOST_DEVICE(int64_t r, int64_t i) { return term; },
//                                [=] SEQBOAT_HOST_DEVICE(int64_t r, Acc total) { out[r] = total; });
//
// total_r = sum over i < n of term(r, i), in the accumulator type Acc. Rows
// shorter than kReduceThreads are summed in order in one work item each;
// longer rows get a block of kReduceThreads GPU threads each: lane t sums
// i = t, t + kReduceThreads, ... in order, then CUB's BlockReduce combines
// the lanes (CudaExec); HostExec forms the same lanes and adds them in order.
//
// Column sums, where term(c, i) and term(c + 1, i) are neighbours in memory
// (sums over the rows of a row-major matrix),
//
//   ex.template reduce_cols<Acc>(cols, n, term, store)
//
// compute the same totals in an order both executors share: the rows in
// chunks of kColChunk; within a chunk, kColLanes row lanes (lane l takes
// rows l, l + kColLanes, ... in order) added in lane order; then the chunks'
// partial sums in chunk order. (The same additions in the same order; a
// term itself may still round differently where nvcc and the host compiler
// contract a * b + c into an FMA differently.) On the GPU a warp holds 32 consecutive
// columns (coalesced reads) and a block kColLanes warps, one per lane.
// (reduce_rows's final combination is CUB's tree, which HostExec does not
// copy: there the two agree up to the order of summation.)
//
// Prefix counts per row,
//
//   ex.scan_rows(rows, n, [=] SEQBOAT_HOST_DEVICE(int64_t r, int64_t i) -> int64_t { return count_i; },
//                [=] SEQBOAT_HOST_DEVICE(int64_t r, int64_t i, int64_t before) { ... });
//
// calls the second function for every (r, i) with before = the sum of
// count(r, i') over i' < i (an exclusive prefix sum of integers, exact in any
// order): one block per row with CUB's BlockScan on the GPU, a loop on the host.
//
// Kernels that share data between threads use blocks of kBlockThreads threads
// and `Exec::shared_limit()` bytes of shared memory at most:
//
//   ex.for_blocks(blocks, steps, shared_bytes, phase_1, phase_2, ...);
//
// runs, for each block and for step = 0 .. steps - 1, every phase in order,
// each as phase(block, step, thread, shared) for thread = 0 .. kBlockThreads
// - 1, with a barrier (__syncthreads) after each phase. The rule that makes
// the host emulation exact: a phase may read what earlier phases (or earlier
// steps) wrote to shared memory, and what the same thread wrote, never what
// another thread writes in the same phase. HostExec runs the threads of a
// phase one after another, which is one legal schedule of such a kernel.
//
// Determinism: every reduction has a fixed order that depends only on the
// sizes (the sequential loops of a work item, the lanes of reduce_rows, a
// block reduction whose tree is fixed by the block size), so results never
// depend on scheduling; no floating-point atomics anywhere.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common.h"
#include "kernels/math.h"

namespace seqboat::cuda {

using kernels::math_exp;
using kernels::math_isfinite;
using kernels::math_log;
using kernels::math_max;
using kernels::math_min;
using kernels::math_sqrt;
using kernels::math_tanh;

// Threads per row of ex.reduce_rows, and the row length from which it uses them.
constexpr int kReduceThreads = 256;
// ex.reduce_cols: row lanes per chunk, and rows per chunk.
constexpr int kColLanes = 8;
constexpr int64_t kColChunk = 1024;
// Threads per block of ex.scan_rows and ex.for_blocks.
constexpr int kBlockThreads = 128;

// A complex number laid out as cuFFT's cufftComplex / cufftDoubleComplex.
template <class T>
struct Cplx {
  T re, im;
};

template <class T>
SEQBOAT_HOST_DEVICE inline Cplx<T> cmul(Cplx<T> a, Cplx<T> b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
template <class T>
SEQBOAT_HOST_DEVICE inline Cplx<T> cconj(Cplx<T> a) {
  return {a.re, -a.im};
}
template <class T>
SEQBOAT_HOST_DEVICE inline Cplx<T> cadd(Cplx<T> a, Cplx<T> b) {
  return {a.re + b.re, a.im + b.im};
}

// The offset (in elements) of row-major element `linear` of `shape` in an
// operand laid out with `strides`.
SEQBOAT_HOST_DEVICE inline int64_t strided_offset(const kernels::StridedShape& shape, const kernels::Strides& strides,
                                                  int64_t linear) {
  int64_t off = 0;
  for (int32_t d = shape.ndim - 1; d >= 0; --d) {
    const int64_t size = shape.size[d];
    off += (linear % size) * strides.step[d];
    linear /= size;
  }
  return off;
}

// Bound<&impl::kernel<Exec, T>>::call is the kernel as the kernel table wants
// it: the signature without the executor, which it makes for each call.
template <auto F>
struct Bound;
template <class Exec, class R, class... A, R (*F)(Exec&, A...)>
struct Bound<F> {
  static R call(A... args) {
    Exec ex;
    return F(ex, args...);
  }
};

}  // namespace seqboat::cuda
