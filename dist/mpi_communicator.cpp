// dist/mpi_communicator.cpp: the communicator over MPI (built with SEQBOAT_MPI).
//
// Every collective is non-blocking underneath and completed by wait_done():
// it polls, spinning for the first 200 us (a gradient all-reduce between ranks
// of one machine takes about that) and then sleeping 200 us between polls, so
// that a rank waiting for rank 0 (an evaluation, a checkpoint) does not take
// the CPU away from it. The same loop is the watchdog: a collective that has
// waited collective_timeout_s() ends the job with a message. Errors return
// codes (MPI_ERRORS_RETURN) that become a message and MPI_Abort, never a
// hang. A rank that dies is noticed by mpirun, which ends the others with
// SIGTERM; the handler installed here says so on each survivor's stderr.
#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "dist/communicator.h"
#include "dist/mpi_communicator.h"
#include "dist/termination.h"

namespace seqboat::dist {

namespace {

using Clock = std::chrono::steady_clock;

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(len));
}

class MpiCommunicator;

class MpiPending : public PendingReduce {
 public:
  MpiPending(MpiCommunicator* comm, MPI_Request req) : comm_(comm), req_(req) {}
  ~MpiPending() override;
  void wait() override;

 private:
  MpiCommunicator* comm_;
  MPI_Request req_;
  bool done_ = false;
};

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm local;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local),
          "MPI_Comm_split_type");
    MPI_Comm_rank(local, &local_rank_);
    MPI_Comm_free(&local);
    timeout_s_ = collective_timeout_s();
    set_rank_for_messages(rank_, size_);
    install_termination_handler();
    // Finalize at exit, so that a normal end is not reported by mpirun as a
    // rank that exited without finalizing.
    std::atexit([] {
      int finalized = 0;
      MPI_Finalized(&finalized);
      if (!finalized) MPI_Finalize();
    });
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  std::string backend() const override { return "mpi"; }

  void allreduce_sum(double* data, int64_t n) override { start(data, n, MPI_DOUBLE)->wait(); }
  void allreduce_sum(float* data, int64_t n) override { start(data, n, MPI_FLOAT)->wait(); }
  std::unique_ptr<PendingReduce> start_allreduce_sum(float* data, int64_t n) override {
    return start(data, n, MPI_FLOAT);
  }
  std::unique_ptr<PendingReduce> start_allreduce_sum(double* data, int64_t n) override {
    return start(data, n, MPI_DOUBLE);
  }

  int64_t allreduce_max(int64_t value) override {
    MPI_Request req;
    check(MPI_Iallreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD, &req), "MPI_Iallreduce");
    wait_done(req, "an all-reduce");
    return value;
  }

  void broadcast(void* data, int64_t bytes, int root) override {
    if (bytes < 0 || bytes > INT32_MAX) throw std::invalid_argument("broadcast: size out of range");
    MPI_Request req;
    check(MPI_Ibcast(data, static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD, &req), "MPI_Ibcast");
    wait_done(req, "a broadcast");
  }

  void barrier() override {
    MPI_Request req;
    check(MPI_Ibarrier(MPI_COMM_WORLD, &req), "MPI_Ibarrier");
    wait_done(req, "a barrier");
  }

  [[noreturn]] void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
  }

  // Polls the request until it completes; see the file comment.
  void wait_done(MPI_Request& req, const char* what) {
    const auto t0 = Clock::now();
    const auto spin = std::chrono::microseconds(200);
    for (;;) {
      int flag = 0;
      check(MPI_Test(&req, &flag, MPI_STATUS_IGNORE), what);
      if (flag) return;
      const auto waited = Clock::now() - t0;
      if (waited > spin) std::this_thread::sleep_for(std::chrono::microseconds(200));
      if (timeout_s_ > 0 && std::chrono::duration<double>(waited).count() > timeout_s_) {
        std::fprintf(stderr,
                     "seqboat (rank %d of %d): no answer from the other ranks for %.0f s in %s "
                     "(SEQBOAT_COLLECTIVE_TIMEOUT_S); ending the job\n",
                     rank_, size_, timeout_s_, what);
        abort(1);
      }
    }
  }

 private:
  std::unique_ptr<PendingReduce> start(void* data, int64_t n, MPI_Datatype type) {
    if (n < 0 || n > INT32_MAX) throw std::invalid_argument("allreduce: count out of range");
    MPI_Request req;
    check(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n), type, MPI_SUM, MPI_COMM_WORLD, &req),
          "MPI_Iallreduce");
    return std::make_unique<MpiPending>(this, req);
  }

  // An MPI error cannot be shared with the other ranks (the communication is
  // what failed): print it and end the job.
  void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    std::fprintf(stderr, "seqboat (rank %d of %d): %s failed: %s (a rank may have died); ending the job\n", rank_,
                 size_, what, mpi_error_text(code).c_str());
    abort(1);
  }

  int rank_ = 0, size_ = 1, local_rank_ = 0;
  double timeout_s_ = 0;
};

MpiPending::~MpiPending() {
  if (!done_) wait();  // a reduction left in flight would write into freed memory
}

void MpiPending::wait() {
  if (done_) return;
  comm_->wait_done(req_, "a gradient all-reduce");
  done_ = true;
}

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace seqboat::dist
