// tensor/random.cpp: xoshiro256** and the tensor samplers built on it.
#include "tensor/random.h"

#include <cmath>

namespace seqboat {

static uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void Generator::seed_(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : s_) w = splitmix64(x);
}

uint64_t Generator::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Generator::next_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

uint64_t Generator::next_below(uint64_t n) {
  if (n == 0) return 0;
  // Rejection of the incomplete top block keeps the result unbiased.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t r;
  do r = next_u64();
  while (r >= limit);
  return r % n;
}

double Generator::next_normal() {
  double u1 = next_double();
  double u2 = next_double();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

Generator& default_generator() {
  static Generator g(0);
  return g;
}

void manual_seed(uint64_t seed) { default_generator().seed_(seed); }

template <class F>
static Tensor fill_with(const Shape& s, DType dt, const char* op, F draw) {
  Tensor t = empty(s, dt);
  dispatch_float(dt, op, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(draw());
    return 0;
  });
  return t;
}

Tensor rand_uniform(const Shape& s, double lo, double hi, DType dt, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  return fill_with(s, dt, "rand_uniform", [&] { return lo + (hi - lo) * g.next_double(); });
}

Tensor rand_normal(const Shape& s, double mean, double std, DType dt, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  return fill_with(s, dt, "rand_normal", [&] { return mean + std * g.next_normal(); });
}

Tensor rand_trunc_normal(const Shape& s, double mean, double std, double lo, double hi, DType dt, Generator* gen) {
  if (!(lo < hi)) fail("rand_trunc_normal: empty interval");
  Generator& g = gen ? *gen : default_generator();
  return fill_with(s, dt, "rand_trunc_normal", [&] {
    for (;;) {
      double v = mean + std * g.next_normal();
      if (v >= lo && v <= hi) return v;
    }
  });
}

}  // namespace seqboat
