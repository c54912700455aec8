// dist/communicator.h: the group of processes (ranks) that train one model
// together, and the few collective operations data-parallel training needs.
//
// Two implementations: a communicator of one rank (every build; every
// collective is the identity), and MPI (builds with SEQBOAT_MPI, used when the
// process was started by mpirun). The layer works on plain buffers and knows
// nothing of tensors, models or training.
//
// Every collective must be called by every rank in the same order. A rank
// that cannot go on (an exception it cannot share with the others) calls
// abort(), which ends every rank of the job instead of leaving the others
// waiting in a collective forever; a watchdog does the same when a
// collective waits longer than collective_timeout_s() (dist/watchdog.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace seqboat::dist {

// A reduction started by start_allreduce_sum; wait() completes it.
class PendingReduce {
 public:
  virtual ~PendingReduce() = default;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The rank among the processes on this machine (which GPU a rank takes).
  virtual int local_rank() const = 0;
  virtual std::string backend() const = 0;  // "single" or "mpi"

  // data[i] = sum over ranks of data[i], in place, on every rank. Every rank
  // receives the same bits (Open MPI's algorithms combine commutatively and
  // send the result around; CTest's replica check verifies it).
  virtual void allreduce_sum(double* data, int64_t n) = 0;
  virtual void allreduce_sum(float* data, int64_t n) = 0;
  // The same, started now and finished by wait(); the buffer must not be
  // touched until then. Several may be in flight (gradient buckets).
  virtual std::unique_ptr<PendingReduce> start_allreduce_sum(float* data, int64_t n) = 0;
  virtual std::unique_ptr<PendingReduce> start_allreduce_sum(double* data, int64_t n) = 0;
  // The maximum of value over the ranks, on every rank.
  virtual int64_t allreduce_max(int64_t value) = 0;
  // Rank root's bytes to every rank.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  // Waits for every rank, sleeping between polls (a rank waiting for rank 0
  // to evaluate or write a checkpoint leaves the CPU to it).
  virtual void barrier() = 0;
  // Ends every rank of the job with this exit code (after the caller printed
  // why). The one-rank communicator exits the process.
  [[noreturn]] virtual void abort(int code) = 0;
};

// True when this process was started by an MPI launcher (mpirun sets
// OMPI_COMM_WORLD_SIZE; PMI/PMIx launchers set PMI_SIZE or PMIX_RANK).
bool launched_by_mpi();
// Whether this build has MPI (SEQBOAT_MPI).
bool built_with_mpi();

// The process's communicator, created on first use: MPI when the build has
// it and mpirun started the process, else one rank. A process started by
// mpirun in a build without MPI is an error (it would train N separate
// models): std::runtime_error saying so.
Communicator& world();

// Seconds a collective may wait for the other ranks before the watchdog ends
// the job: SEQBOAT_COLLECTIVE_TIMEOUT_S, default 600 (a rank waits while rank
// 0 evaluates, so this must exceed the longest evaluation).
double collective_timeout_s();

// FNV-1a over bytes, for comparing replicas across ranks.
uint64_t fnv1a(const void* data, int64_t bytes, uint64_t h = 1469598103934665603ULL);

}  // namespace seqboat::dist
