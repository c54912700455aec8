// tensor/random.h: a seeded, portable random generator. Streams depend only
// on the seed (no std:: distributions, whose output differs across standard
// libraries), so runs, checkpoints and tests reproduce bit for bit.
#pragma once

#include <array>
#include <cstdint>

#include "tensor/tensor.h"

namespace seqboat {

// xoshiro256** seeded through splitmix64.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { seed_(seed); }
  void seed_(uint64_t seed);
  uint64_t next_u64();
  double next_double();             // uniform in [0, 1), 53 bits
  uint64_t next_below(uint64_t n);  // uniform integer in [0, n), unbiased
  double next_normal();             // standard normal (Box-Muller, no cached second value)
  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_{};
};

// The state of the counter-based stream that dropout draws from. The masks
// come from Philox-4x32-10 keyed by `seed` (kernels/philox.h): dropout
// call number `offset` gives element i the bits of counter (i / 4, offset),
// word i % 4. A mask is therefore a pure function of (seed, offset, i): the
// same on every device and for any thread count, and continuing a run needs
// only these two numbers.
//
// Data-parallel training splits a batch by rows (the first dimension of
// every tensor dropout sees); a rank holding rows row_offset.. sets it so
// that its element i is element row_offset * (elements per row) + i of the
// whole batch, and draws the mask the one process would have drawn there.
// A pair batch (all first documents, then all second ones: 2B rows) gives a
// rank two blocks, rows b.. and B + b..: its first rows_in_first_block rows
// are the whole batch's rows row_offset.., the rest second_row_offset.. (0
// rows: one block). It is not saved: each rank sets it for its share of
// every batch.
struct DropoutRng {
  uint64_t seed = 0;
  uint64_t offset = 0;      // dropout calls drawn so far
  uint64_t row_offset = 0;  // this process's first row in the whole batch
  uint64_t rows_in_first_block = 0, second_row_offset = 0;
  uint64_t take_offset() { return offset++; }
};

// The process-wide default generator used when none is passed.
Generator& default_generator();
void manual_seed(uint64_t seed);

Tensor rand_uniform(const Shape& s, double lo, double hi, DType dt = DType::Float32, Generator* gen = nullptr);
Tensor rand_normal(const Shape& s, double mean, double std, DType dt = DType::Float32, Generator* gen = nullptr);
// Normal(mean, std) resampled until inside [lo, hi].
Tensor rand_trunc_normal(const Shape& s, double mean, double std, double lo, double hi, DType dt = DType::Float32,
                         Generator* gen = nullptr);

}  // namespace seqboat
