// kernels/math.h: the scalar functions the shared formulas of
// kernels/<family>.h are written with, callable on the host and on the GPU.
#pragma once

#include <cmath>

#include "kernels/common.h"

namespace seqboat::kernels {

// Math in the element type: the float versions on floats (as the CPU's
// std::exp(float) does), on the host and on the device alike.
SEQBOAT_HOST_DEVICE inline float math_exp(float v) { return ::expf(v); }
SEQBOAT_HOST_DEVICE inline double math_exp(double v) { return ::exp(v); }
SEQBOAT_HOST_DEVICE inline float math_log(float v) { return ::logf(v); }
SEQBOAT_HOST_DEVICE inline double math_log(double v) { return ::log(v); }
SEQBOAT_HOST_DEVICE inline float math_sqrt(float v) { return ::sqrtf(v); }
SEQBOAT_HOST_DEVICE inline double math_sqrt(double v) { return ::sqrt(v); }
SEQBOAT_HOST_DEVICE inline float math_tanh(float v) { return ::tanhf(v); }
SEQBOAT_HOST_DEVICE inline double math_tanh(double v) { return ::tanh(v); }
template <class T>
SEQBOAT_HOST_DEVICE inline bool math_isfinite(T v) {
#if defined(__CUDA_ARCH__)
  return isfinite(v);
#else
  return std::isfinite(v);
#endif
}
template <class T>
SEQBOAT_HOST_DEVICE inline T math_max(T a, T b) {
  return a > b ? a : b;
}
template <class T>
SEQBOAT_HOST_DEVICE inline T math_min(T a, T b) {
  return a < b ? a : b;
}

}  // namespace seqboat::kernels
