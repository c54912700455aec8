// ops/dispatch.h: how an op finds its kernel: by device and element type, in
// the backends' tables (kernels/table.h). A missing kernel is one clear
// error, "<op>: no <device> kernel for <dtype> (<kernel>)".
//
//   SEQBOAT_KERNEL("local_attention", dev, T, local_attention_forward)(geom, in, w, out);
#pragma once

#include <fmt/format.h>

#include "ops/kernel_profile.h"
#include "kernels/table.h"
#include "tensor/tensor.h"

namespace seqboat {

// The kernels of `device` (all null for a backend this build does not
// have): everything, the typed ones for element type T, the untyped ones.
const kernels::BackendKernels& backend_on(Device device);
template <class T>
const kernels::TypedKernels<T>& kernels_on(Device device) {
  return backend_on(device).template of<T>();
}
inline const kernels::UntypedKernels& untyped_kernels_on(Device device) { return backend_on(device).untyped; }

// Tests only: until called again with nullptr, ops on `device` take their
// kernels from `table` (tests/test_ops.cpp runs the CUDA kernels' host build
// through every op this way). Not thread-safe; never used by the library.
void set_kernel_table_for_testing(Device device, const kernels::BackendKernels* table);

// The kernel, wrapped so that SEQBOAT_PROFILE can time its call.
template <class T, class Fn>
KernelCall<Fn> require_kernel(const char* op, Device device, const char* kernel, Fn* fn) {
  if (!fn)
    fail(fmt::format("{}: no {} kernel for {} ({})", op, device_name(device), dtype_name(dtype_of<T>()), kernel));
  return KernelCall<Fn>{op, kernel, device, static_cast<int>(dtype_of<T>()), fn};
}
template <class Fn>
KernelCall<Fn> require_untyped_kernel(const char* op, Device device, const char* kernel, Fn* fn) {
  if (!fn) fail(fmt::format("{}: no {} kernel {}", op, device_name(device), kernel));
  return KernelCall<Fn>{op, kernel, device, kUntyped, fn};
}

}  // namespace seqboat

// The kernel `name` of the table for `device`: typed (element type T) or untyped.
#define SEQBOAT_KERNEL(op, device, T, name) \
  (::seqboat::require_kernel<T>((op), (device), #name, ::seqboat::kernels_on<T>(device).name))
#define SEQBOAT_UNTYPED_KERNEL(op, device, name) \
  (::seqboat::require_untyped_kernel((op), (device), #name, ::seqboat::untyped_kernels_on(device).name))
