// dist/nccl.h: sums of GPU buffers over the ranks through NCCL, one GPU per
// rank, the NCCL communicator bootstrapped through the ranks' communicator
// (rank 0 makes the unique id, a broadcast hands it to the others).
//
// NCCL is loaded on first use (dlopen: SEQBOAT_NCCL_LIBRARY, else
// libnccl.so.2 from the loader's path, else the copy next to the CUDA
// toolkit this was built with), not linked: the build needs only nccl.h (it
// ships with the CUDA toolkit), and a machine without libnccl still runs
// everything else. Builds without CUDA have the declarations only; create()
// throws there.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dist/communicator.h"

namespace seqboat::dist {

// A buffer on this rank's GPU: count elements of float (or double).
struct DeviceBuffer {
  void* data = nullptr;
  int64_t count = 0;
  bool is_double = false;
};

class NcclComm {
 public:
  virtual ~NcclComm() = default;
  // Selects GPU local_rank % (number of GPUs) for this process (call it
  // before the first CUDA allocation), loads NCCL and joins every rank of
  // `bootstrap` into one NCCL communicator. Throws std::runtime_error naming
  // the step that failed (no GPU, no libnccl, an NCCL error).
  static std::unique_ptr<NcclComm> create(Communicator& bootstrap);
  // Sums each buffer over the ranks in place (one NCCL group: NCCL fuses
  // them) on a stream of its own, and waits for the result. The buffers must
  // be ready: the caller has synchronised the stream that wrote them.
  virtual void allreduce_sum(const std::vector<DeviceBuffer>& buffers) = 0;
  virtual int device() const = 0;  // the GPU this rank uses
};

// Whether this build has the NCCL path (built with CUDA).
bool nccl_compiled();

}  // namespace seqboat::dist
