// dist/nccl_stub.cpp: NcclComm in builds without CUDA or without nccl.h: no GPU path.
#include <stdexcept>

#include "dist/nccl.h"

namespace seqboat::dist {

std::unique_ptr<NcclComm> NcclComm::create(Communicator&) {
  throw std::runtime_error(
      "NCCL: this seqboat was built without the NCCL path (no CUDA, or CMake found no nccl.h in the CUDA toolkit)");
}

bool nccl_compiled() { return false; }

}  // namespace seqboat::dist
