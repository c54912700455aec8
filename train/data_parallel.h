// train/data_parallel.h: what data-parallel training adds to one training
// step, on top of a communicator (dist/communicator.h):
//
//   - which rows of the global batch a rank computes (batch_share), cut from
//     the global batch without changing its padded length (take_rows), so
//     every row sees exactly the computation it sees in one process;
//   - the loss: a rank's mean over its n_r counted rows (tokens for lm) is
//     weighted by n_r / n before the backward, n = sum_r n_r, so that the
//     gradients summed over ranks are those of the global batch's mean
//     (per-rank means averaged would be wrong whenever the n_r differ);
//   - gradients summed over ranks in buckets (GradientSync);
//   - step statistics summed over ranks (loss sum, correct, counts, a
//     non-finite flag, rank 0's stop decision), so every rank decides alike;
//   - agreement on errors outside the step (setup, data), and a hash of the
//     parameters and optimizer state to prove the replicas are identical.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "dist/communicator.h"
#include "dist/nccl.h"
#include "nn/optim.h"
#include "train/tasks.h"

namespace seqboat::train {

// Rows [begin, end) of a global batch of `batch` rows on `rank` of `ranks`:
// the batch is split as evenly as possible, the first batch % ranks ranks
// taking one row more (32 rows on 3 ranks: 11, 11, 10). The loss weighting
// above keeps an uneven split exact. Throws UsageError (a config error:
// exit code 2) when batch < ranks (a rank would have no rows).
struct Share {
  int64_t begin = 0, end = 0;
  int64_t rows() const { return end - begin; }
};
Share batch_share(int64_t batch, int rank, int ranks);

// The rows of b in share s (tokens or values, padding, labels; the padded
// length L is kept; a pair batch: rows s of the first documents and rows s
// of the second ones), and their real tokens. Points `dropout` at the rows
// the share has in the whole batch (DropoutRng::row_offset, and the second
// block of a pair batch), so each row gets the masks one process gives it.
Batch take_rows(const Batch& b, Share s, DropoutRng& dropout);

// Refuses configs that data-parallel training over `ranks` would change:
// batch_size < ranks, and batch norm (its statistics are over the batch;
// each rank would normalise its own share). Throws UsageError naming the
// key and saying what to do instead.
void check_data_parallel_config(const nlohmann::json& cfg, int ranks);

// Sums every parameter's gradient over the ranks, in buckets of about
// bucket_bytes, deepest parameters first (the order the backward finishes
// them). A parameter without a gradient on a rank contributes zeros; it has
// a gradient after the sum when it had one on any rank (as in one process,
// where the optimizer skips parameters without a gradient). CPU gradients
// are packed straight from their storage; others go through the host,
// unless `nccl` is given: then GPU gradients are summed by NCCL in place (one
// group call; NCCL makes its own buckets), with one rank too (a check of the
// NCCL path and of its cost).
class GradientSync {
 public:
  GradientSync(dist::Communicator& comm, nn::NamedParams params, int64_t bucket_bytes,
               dist::NcclComm* nccl = nullptr);
  void all_reduce();
  // Seconds spent inside the reductions (starting and waiting), and packing
  // and unpacking, summed over all calls.
  double comm_seconds() const { return comm_seconds_; }
  double pack_seconds() const { return pack_seconds_; }
  int64_t buckets() const { return static_cast<int64_t>(buckets_.size()); }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    int64_t elements = 0;
  };
  void nccl_reduce();
  dist::Communicator& comm_;
  dist::NcclComm* nccl_;
  nn::NamedParams params_;
  std::vector<Bucket> buckets_;
  std::vector<double> flags_;
  double comm_seconds_ = 0, pack_seconds_ = 0;
};

// Runs f on every rank (only where `mine`), then agrees: when f threw on any
// rank, every rank throws, the one that failed its own exception, the others
// a std::runtime_error saying that another rank failed. Also a barrier.
void run_agreed(dist::Communicator& comm, bool mine, const std::function<void()>& f);

// FNV-1a over the bytes of every parameter and optimizer state tensor, in
// name order.
uint64_t replica_hash(nn::Module& model, const nn::Optimizer& optimizer);
// Compares rank 0's replica_hash with every rank's; throws on every rank
// (naming the ranks that differ and the step) when any differs.
void check_replicas(dist::Communicator& comm, nn::Module& model, const nn::Optimizer& optimizer, int64_t step);

}  // namespace seqboat::train
