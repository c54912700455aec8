// ops/backend.cpp: see ops/backend.h.
#include "ops/backend.h"

#include <fmt/format.h>

#include "cpu/backend.h"
#include "device/memory.h"
#include "ops/dispatch.h"

namespace seqboat {

std::vector<KernelAvailability> kernel_availability() {
  std::vector<KernelAvailability> out;
  const Device devices[] = {Device::CPU, Device::CUDA};
#define SEQBOAT_TYPED_ROW_(family_, name_, Fn)                                              \
  {                                                                                         \
    KernelAvailability k;                                                                   \
    k.family = #family_;                                                                    \
    k.name = #name_;                                                                        \
    for (Device d : devices) {                                                              \
      const int di = static_cast<int>(d);                                                   \
      k.has[di][static_cast<int>(DType::Float32)] = kernels_on<float>(d).name_ != nullptr;  \
      k.has[di][static_cast<int>(DType::Float64)] = kernels_on<double>(d).name_ != nullptr; \
      k.has[di][static_cast<int>(DType::Int64)] = kernels_on<int64_t>(d).name_ != nullptr;  \
      k.has[di][static_cast<int>(DType::UInt8)] = kernels_on<uint8_t>(d).name_ != nullptr;  \
    }                                                                                       \
    out.push_back(k);                                                                       \
  }
#define SEQBOAT_UNTYPED_ROW_(family_, name_, Fn)                   \
  {                                                                \
    KernelAvailability k;                                          \
    k.family = #family_;                                           \
    k.name = #name_;                                               \
    k.untyped = true;                                              \
    for (Device d : devices)                                       \
      for (int t = 0; t < kNumDTypes; ++t)                         \
        k.has[static_cast<int>(d)][t] = untyped_kernels_on(d).name_ != nullptr; \
    out.push_back(k);                                              \
  }
  SEQBOAT_KERNEL_LIST(SEQBOAT_TYPED_ROW_, SEQBOAT_UNTYPED_ROW_)
#undef SEQBOAT_TYPED_ROW_
#undef SEQBOAT_UNTYPED_ROW_
  return out;
}

std::string kernel_table_text() {
  const DType dtypes[] = {DType::Float32, DType::Float64, DType::Int64, DType::UInt8};
  std::string out = fmt::format("{:<12} {:<30}", "family", "kernel");
  for (Device d : {Device::CPU, Device::CUDA})
    for (DType t : dtypes) out += fmt::format(" {:>12}", fmt::format("{}/{}", device_name(d), dtype_name(t)));
  out += "\n";
  for (const KernelAvailability& k : kernel_availability()) {
    out += fmt::format("{:<12} {:<30}", k.family, k.name);
    for (Device d : {Device::CPU, Device::CUDA})
      for (DType t : dtypes)
        out += fmt::format(" {:>12}", !k.has[static_cast<int>(d)][static_cast<int>(t)] ? "." : k.untyped ? "*" : "x");
    out += "\n";
  }
  out += "x: a kernel for this device and dtype; *: an untyped kernel (masks, indices) for any dtype\n";
  return out;
}

bool device_available(Device device) { return device_unavailable_reason(device).empty(); }

std::string device_unavailable_reason(Device device) {
  if (device == Device::CPU) return "";
  if (!cuda::compiled_with_cuda()) return "this build has no CUDA backend (configure on a machine with nvcc)";
  if (!cuda::is_available()) return "no CUDA device: " + cuda::device_description();
  return "";
}

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::CPU;
  if (name == "cuda") return Device::CUDA;
  fail(fmt::format("device '{}' is not one of: cpu, cuda", name));
}

void synchronize_device(Device device) {
  if (device == Device::CUDA) cuda::synchronize_device();
}

void set_cpu_threads(int n) { cpu::set_num_threads(n); }
int cpu_threads() { return cpu::num_threads(); }

}  // namespace seqboat
