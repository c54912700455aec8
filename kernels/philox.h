// kernels/philox.h: Philox-4x32-10 (Salmon, Moraes, Dror, Shaw,
// "Parallel random numbers: as easy as 1, 2, 3", SC'11), the counter-based
// generator behind dropout masks. One definition for every backend: a CPU
// thread and a CUDA thread computing element i of a mask get the same bits.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common.h"

namespace seqboat::kernels {

struct Philox4x32 {
  uint32_t v[4];
};

// Ten rounds of: (hi, lo) = M * x (32 x 32 -> 64 bits), then the four words
// permute and mix with the round key; the key is bumped by the Weyl
// constants between rounds.
SEQBOAT_HOST_DEVICE inline Philox4x32 philox4x32_10(Philox4x32 ctr, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // multipliers
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kM0) * ctr.v[0];
    const uint64_t p1 = static_cast<uint64_t>(kM1) * ctr.v[2];
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    ctr = Philox4x32{{hi1 ^ ctr.v[1] ^ key0, lo1, hi0 ^ ctr.v[3] ^ key1, lo0}};
    key0 += kW0;
    key1 += kW1;
  }
  return ctr;
}

// The four 32-bit words of dropout call `offset` for elements 4 block ..
// 4 block + 3: the block at counter (block, offset) under key `seed`.
SEQBOAT_HOST_DEVICE inline Philox4x32 dropout_block(uint64_t seed, uint64_t offset, uint64_t block) {
  const Philox4x32 ctr{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), static_cast<uint32_t>(offset),
                        static_cast<uint32_t>(offset >> 32)}};
  return philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// The uniform draw in [0, 1) of element i of dropout call `offset`: word
// i % 4 of its block, times 2^-32 (exact in double). Element i is kept when
// it is >= p.
SEQBOAT_HOST_DEVICE inline double dropout_uniform(uint64_t seed, uint64_t offset, uint64_t i) {
  return static_cast<double>(dropout_block(seed, offset, i / 4).v[i % 4]) * (1.0 / 4294967296.0);
}

// u >= p for u = word 2^-32 is word >= ceil(p 2^32): the same decision on
// integers (p 2^32 is exact in double).
SEQBOAT_HOST_DEVICE inline uint64_t dropout_threshold(double p) {
  return static_cast<uint64_t>(ceil(p * 4294967296.0));
}

}  // namespace seqboat::kernels
