// ops/dispatch.cpp: the kernel tables of the backends this build has: the
// CPU always, CUDA when configured with it (SEQBOAT_WITH_CUDA).
#include "ops/dispatch.h"

#include "cpu/backend.h"
#ifdef SEQBOAT_WITH_CUDA
#include "cuda/backend.h"
#endif

namespace seqboat {

namespace {

const kernels::BackendKernels* g_testing_table[kNumDevices] = {};

}  // namespace

const kernels::BackendKernels& backend_on(Device device) {
  if (const kernels::BackendKernels* t = g_testing_table[static_cast<int>(device)]) return *t;
  if (device == Device::CPU) return cpu::backend_kernels();
#ifdef SEQBOAT_WITH_CUDA
  return cuda::backend_kernels();
#else
  static const kernels::BackendKernels none;
  return none;
#endif
}

void set_kernel_table_for_testing(Device device, const kernels::BackendKernels* table) {
  g_testing_table[static_cast<int>(device)] = table;
}

}  // namespace seqboat
