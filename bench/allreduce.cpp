// bench/allreduce.cpp: what a gradient all-reduce costs between the ranks of
// this machine, without training around it: the sum over ranks of a float
// buffer (dist::Communicator, as the trainer calls it), for buffer sizes from
// 4 KiB to 16 MiB, in one piece and in 1 MiB buckets started together.
// Prints one row per size (median and min over the repetitions, every rank
// first meets at a barrier so that waiting for a late rank is not counted).
//
//   mpirun -np 2 build/bin/allreduce [reps]        (as root: --allow-run-as-root)
//
// The default models' gradients: ListOps 1.04 MiB (273,294 floats), lm 0.40 MiB.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

#include "dist/communicator.h"

using namespace seqboat;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  dist::Communicator& comm = dist::world();
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 50;
  if (comm.rank() == 0)
    fmt::print("{} ranks ({}), {} repetitions per size\n{:>10} {:>14} {:>14} {:>14} {:>10}\n", comm.size(),
               comm.backend(), reps, "bytes", "one: median us", "one: min us", "1 MiB buckets", "GB/s");
  for (int64_t bytes = 4096; bytes <= (int64_t{16} << 20); bytes *= 4) {
    const int64_t n = bytes / 4;
    std::vector<float> buf(static_cast<size_t>(n), 1.0f);
    std::vector<double> one, bucketed;
    for (int r = 0; r < reps + 2; ++r) {
      comm.barrier();
      auto t0 = Clock::now();
      comm.allreduce_sum(buf.data(), n);
      const double a = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      comm.barrier();
      t0 = Clock::now();
      std::vector<std::unique_ptr<dist::PendingReduce>> pending;
      const int64_t bucket = (int64_t{1} << 20) / 4;
      for (int64_t at = 0; at < n; at += bucket)
        pending.push_back(comm.start_allreduce_sum(buf.data() + at, std::min(bucket, n - at)));
      for (auto& p : pending) p->wait();
      const double b = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      if (r >= 2) {  // the first two warm the connections up
        one.push_back(a);
        bucketed.push_back(b);
      }
      std::fill(buf.begin(), buf.end(), 1.0f);  // keep the values finite
    }
    std::sort(one.begin(), one.end());
    std::sort(bucketed.begin(), bucketed.end());
    const double med = one[one.size() / 2];
    if (comm.rank() == 0)
      fmt::print("{:>10} {:>14.1f} {:>14.1f} {:>14.1f} {:>10.2f}\n", bytes, med, one.front(),
                 bucketed[bucketed.size() / 2], static_cast<double>(bytes) / med / 1e3);
  }
  return 0;
}
