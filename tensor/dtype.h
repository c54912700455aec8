// tensor/dtype.h: element types and devices, as plain enums. Kept apart from
// tensor.h so that kernel headers (kernels/, compiled by nvcc too) can
// name them without pulling in the Tensor class.
#pragma once

#include <cstdint>

namespace seqboat {

enum class DType : uint8_t { Float32, Float64, Int64, UInt8 };
constexpr int kNumDTypes = 4;
enum class Device : uint8_t { CPU, CUDA };
constexpr int kNumDevices = 2;

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::Float32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::Float64;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::Int64;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::UInt8;
}

}  // namespace seqboat
