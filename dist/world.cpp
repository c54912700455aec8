// dist/world.cpp: the process's communicator (MPI or one rank), the
// one-rank communicator, and the small helpers of communicator.h.
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

#include "dist/communicator.h"
#ifdef SEQBOAT_WITH_MPI
#include "dist/mpi_communicator.h"
#endif

namespace seqboat::dist {

namespace {

// One rank: every sum over ranks is the value itself.
class SingleCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string backend() const override { return "single"; }
  void allreduce_sum(double*, int64_t) override {}
  void allreduce_sum(float*, int64_t) override {}
  std::unique_ptr<PendingReduce> start_allreduce_sum(float*, int64_t) override { return std::make_unique<Done>(); }
  std::unique_ptr<PendingReduce> start_allreduce_sum(double*, int64_t) override { return std::make_unique<Done>(); }
  int64_t allreduce_max(int64_t value) override { return value; }
  void broadcast(void*, int64_t, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    std::exit(code);
  }

 private:
  struct Done : PendingReduce {
    void wait() override {}
  };
};

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0';
}

}  // namespace

bool launched_by_mpi() { return env_set("OMPI_COMM_WORLD_SIZE") || env_set("PMI_SIZE") || env_set("PMIX_RANK"); }

bool built_with_mpi() {
#ifdef SEQBOAT_WITH_MPI
  return true;
#else
  return false;
#endif
}

Communicator& world() {
  static std::unique_ptr<Communicator> comm;
  static std::once_flag once;
  std::call_once(once, [] {
#ifdef SEQBOAT_WITH_MPI
    if (launched_by_mpi()) {
      comm = make_mpi_communicator();
      return;
    }
#else
    const char* n = std::getenv("OMPI_COMM_WORLD_SIZE");
    if (!n) n = std::getenv("PMI_SIZE");
    if (n && std::string(n) != "1")
      throw std::runtime_error(
          "started by mpirun with several ranks, but this seqboat was built without MPI (SEQBOAT_MPI=OFF or Open MPI "
          "not found): each rank would train a model of its own; rebuild with libopenmpi-dev installed");
#endif
    comm = std::make_unique<SingleCommunicator>();
  });
  if (!comm) throw std::runtime_error("the communicator could not be created");
  return *comm;
}

double collective_timeout_s() {
  const char* v = std::getenv("SEQBOAT_COLLECTIVE_TIMEOUT_S");
  if (!v || !*v) return 600;
  char* end = nullptr;
  const double s = std::strtod(v, &end);
  if (end == v || *end != '\0' || !(s >= 0) || s > 1e9)
    throw std::invalid_argument(std::string("SEQBOAT_COLLECTIVE_TIMEOUT_S must be a number of seconds >= 0, got '") +
                                v + "'");
  return s;
}

uint64_t fnv1a(const void* data, int64_t bytes, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (int64_t i = 0; i < bytes; ++i) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace seqboat::dist
