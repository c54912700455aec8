// Common dataset types (a token sequence with a class label) and small,
// portable random-number helpers shared by the dataset generators. The
// helpers give the same results with every standard library, unlike the
// std:: distributions.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace seqboat::data {

// One classification example: token ids and the class label.
struct SeqExample {
  std::vector<int32_t> tokens;
  int label = 0;
};

// splitmix64: advances `state` and returns the next 64-bit output.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Unbiased integer in [0, n) from any generator returning uniform 64-bit
// words (rejection sampling on the top of the range). Requires n > 0.
template <class NextU64>
inline uint64_t bounded_u64(NextU64&& next, uint64_t n) {
  // threshold = 2^64 mod n; values below it would bias the modulo.
  const uint64_t threshold = (0 - n) % n;
  for (;;) {
    const uint64_t x = next();
    if (x >= threshold) return x % n;
  }
}

// Unbiased integer in [0, n) from a std::mt19937_64 (whose output sequence is
// fixed by the standard).
inline uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  return bounded_u64([&rng]() { return static_cast<uint64_t>(rng()); }, n);
}

// Uniform double in [0, 1) with 53 random bits.
inline double uniform_unit(std::mt19937_64& rng) {
  return static_cast<double>(static_cast<uint64_t>(rng()) >> 11) * 0x1.0p-53;
}

}  // namespace seqboat::data
