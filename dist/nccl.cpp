// dist/nccl.cpp: NcclComm over NCCL loaded with dlopen (see nccl.h). nccl.h
// gives the types and the functions' signatures; every call goes through a
// pointer resolved from the library on first use.
#include "dist/nccl.h"

#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace seqboat::dist {

namespace {

struct NcclApi {
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) comm_init_rank = nullptr;
  decltype(&ncclCommDestroy) comm_destroy = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclGroupStart) group_start = nullptr;
  decltype(&ncclGroupEnd) group_end = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;
};

void* open_nccl() {
  std::string tried;
  auto attempt = [&](const std::string& path) -> void* {
    if (path.empty()) return nullptr;
    if (void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
    const char* why = dlerror();
    tried += "\n  " + path + ": " + (why ? why : "not loadable");
    return nullptr;
  };
  const char* env = std::getenv("SEQBOAT_NCCL_LIBRARY");
  if (void* h = attempt(env ? env : "")) return h;
  if (void* h = attempt("libnccl.so.2")) return h;
#ifdef SEQBOAT_NCCL_FALLBACK
  if (void* h = attempt(SEQBOAT_NCCL_FALLBACK)) return h;
#endif
  throw std::runtime_error("NCCL: cannot load libnccl (set SEQBOAT_NCCL_LIBRARY to its path); tried:" + tried);
}

const NcclApi& nccl() {
  static const NcclApi api = [] {
    void* lib = open_nccl();
    NcclApi a;
    auto resolve = [&](const char* name, auto& fn) {
      void* p = dlsym(lib, name);
      if (!p) throw std::runtime_error(std::string("NCCL: the library has no symbol ") + name);
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    resolve("ncclGetUniqueId", a.get_unique_id);
    resolve("ncclCommInitRank", a.comm_init_rank);
    resolve("ncclCommDestroy", a.comm_destroy);
    resolve("ncclAllReduce", a.all_reduce);
    resolve("ncclGroupStart", a.group_start);
    resolve("ncclGroupEnd", a.group_end);
    resolve("ncclGetErrorString", a.error_string);
    return a;
  }();
  return api;
}

void check_nccl(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) throw std::runtime_error(std::string("NCCL: ") + what + " failed: " + nccl().error_string(r));
}

void check_cuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("NCCL: ") + what + ": " + cudaGetErrorString(e));
}

class NcclCommImpl : public NcclComm {
 public:
  explicit NcclCommImpl(Communicator& bootstrap) {
    int devices = 0;
    check_cuda(cudaGetDeviceCount(&devices), "counting GPUs");
    if (devices < 1) throw std::runtime_error("NCCL: no GPU visible to this rank");
    device_ = bootstrap.local_rank() % devices;
    check_cuda(cudaSetDevice(device_), "selecting the GPU of this rank");
    const NcclApi& api = nccl();
    ncclUniqueId id{};
    if (bootstrap.rank() == 0) check_nccl(api.get_unique_id(&id), "ncclGetUniqueId");
    bootstrap.broadcast(&id, sizeof id, 0);
    check_nccl(api.comm_init_rank(&comm_, bootstrap.size(), id, bootstrap.rank()), "ncclCommInitRank");
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "creating the all-reduce stream");
  }
  ~NcclCommImpl() override {
    if (comm_) nccl().comm_destroy(comm_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  void allreduce_sum(const std::vector<DeviceBuffer>& buffers) override {
    const NcclApi& api = nccl();
    check_nccl(api.group_start(), "ncclGroupStart");
    for (const DeviceBuffer& b : buffers)
      check_nccl(api.all_reduce(b.data, b.data, static_cast<size_t>(b.count), b.is_double ? ncclFloat64 : ncclFloat32,
                                ncclSum, comm_, stream_),
                 "ncclAllReduce");
    check_nccl(api.group_end(), "ncclGroupEnd");
    check_cuda(cudaStreamSynchronize(stream_), "waiting for the all-reduce");
  }

  int device() const override { return device_; }

 private:
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;  // NCCL's own; the buffers are ready before the call (nccl.h)
  int device_ = 0;
};

}  // namespace

std::unique_ptr<NcclComm> NcclComm::create(Communicator& bootstrap) {
  return std::make_unique<NcclCommImpl>(bootstrap);
}

bool nccl_compiled() { return true; }

}  // namespace seqboat::dist
