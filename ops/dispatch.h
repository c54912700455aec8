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

// The kernels of `device` for element type T (all null for a backend this
// build does not have).
template <class T>
const kernels::TypedKernels<T>& kernels_on(Device device);

// Tests only: until called again with nullptr, ops on `device` take their
// kernels from `table` (tests/test_ops.cpp runs the CUDA kernels' host build
// through every op this way). Not thread-safe; never used by the library.
void set_kernel_table_for_testing(Device device, const kernels::BackendKernels* table);

// The kernel, wrapped so that SEQBOAT_PROFILE can time its call.
template <class T, class Fn>
KernelCall<Fn> require_kernel(const char* op, Device device, const char* kernel, Fn* fn) {
  if (!fn)
    fail(fmt::format("{}: no {} kernel for {} ({})", op, device_name(device), dtype_name(dtype_of<T>()), kernel));
  return KernelCall<Fn>{op, kernel, device, fn};
}

}  // namespace seqboat

#define SEQBOAT_KERNEL(op, device, T, name) \
  (::seqboat::require_kernel<T>((op), (device), #name, ::seqboat::kernels_on<T>(device).name))
