// ops/kernel_profile.h: wall time per kernel, for finding where a step goes.
// Off by default (one predictable branch per kernel call); on when the
// environment has SEQBOAT_PROFILE=1 or after set_kernel_profiling(true).
// Each kernel call made through SEQBOAT_KERNEL is timed from call to return,
// keyed by (op, kernel, device); on CUDA the device is synchronised before
// and after the call, so the time is the kernel's and not the launch's (this
// slows a CUDA run down: profile, then turn it off to measure speed).
// `seqboat bench --profile` and `seqboat train --profile` print the table.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>

#include "ops/backend.h"
#include "tensor/tensor.h"

namespace seqboat {

bool kernel_profiling();
void set_kernel_profiling(bool on);
void reset_kernel_profile();
// The dtype slot of an untyped kernel (KernelCall::dtype).
constexpr int kUntyped = -1;
// Adds one call of `seconds` to the (op, kernel, device) entry, and counts
// it for (kernel, device, dtype) (dtype: a DType as int, or kUntyped).
void record_kernel_call(const char* op, const char* kernel, Device device, int dtype, double seconds);
// Calls recorded since the last reset, by (kernel, device, dtype): which
// kernel slots a run reached (the op table's coverage test reads this).
struct KernelSlot {
  std::string kernel;
  Device device;
  int dtype;
  bool operator<(const KernelSlot& o) const;
};
std::map<KernelSlot, int64_t> kernel_call_counts();
// The entries, largest total first: calls, total ms, share of all timed
// kernel time, mean us per call. Empty when nothing was recorded.
std::string kernel_profile_report();

// What SEQBOAT_KERNEL returns: the kernel, and what to name it by when timing.
template <class Fn>
struct KernelCall {
  const char* op;
  const char* kernel;
  Device device;
  int dtype;  // a DType as int, or kUntyped
  Fn* fn;

  template <class... A>
  decltype(auto) operator()(A&&... args) const {
    if (!kernel_profiling()) return fn(std::forward<A>(args)...);
    return timed(std::forward<A>(args)...);
  }

 private:
  struct Timer {
    const KernelCall& k;
    std::chrono::steady_clock::time_point t0;
    ~Timer() {
      synchronize_device(k.device);
      record_kernel_call(k.op, k.kernel, k.device, k.dtype,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  };
  template <class... A>
  decltype(auto) timed(A&&... args) const {
    synchronize_device(device);
    Timer t{*this, std::chrono::steady_clock::now()};
    return fn(std::forward<A>(args)...);
  }
};

}  // namespace seqboat
