// tensor/checked.cpp: see checked.h.
#include "tensor/checked.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <limits>

namespace seqboat {

namespace {

std::string dims_text(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

size_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return size_t{1} << 40;  // unknown: 1 TiB
  return static_cast<size_t>(pages) * static_cast<size_t>(page);
}

}  // namespace

int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
    throw SizeError(fmt::format("{}: {} x {} does not fit a 64-bit size", what, a, b));
  return r;
}

int64_t checked_numel(const std::vector<int64_t>& shape, const char* what) {
  int64_t n = 1, span = 8;  // span: the product with 0 read as 1, in bytes of the widest element
  for (int64_t d : shape) {
    if (d < 0) throw SizeError(fmt::format("{}: negative dimension {} in shape {}", what, d, dims_text(shape)));
    if (__builtin_mul_overflow(span, d == 0 ? 1 : d, &span))
      throw SizeError(fmt::format("{}: shape {} is too large (its size overflows 64 bits)", what, dims_text(shape)));
    n *= d;  // cannot overflow: |n| <= span / 8
  }
  return n;
}

size_t max_allocation_bytes() {
  static const size_t limit = [] {
    if (const char* env = std::getenv("SEQBOAT_MAX_ALLOC_BYTES")) {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(env, &end, 10);
      if (end != env && *end == '\0' && v > 0) return static_cast<size_t>(v);
    }
    return physical_memory();
  }();
  return limit;
}

void check_allocation(size_t bytes, const std::string& what) {
  if (bytes > max_allocation_bytes())
    throw SizeError(fmt::format("{}: needs {} ({} bytes), more than the {} this machine can allocate", what,
                                bytes_text(static_cast<double>(bytes)), bytes, bytes_text(static_cast<double>(max_allocation_bytes()))));
}

size_t checked_nbytes(int64_t numel, size_t element_size, const std::string& what) {
  const int64_t bytes = checked_mul(numel, static_cast<int64_t>(element_size), what);
  check_allocation(static_cast<size_t>(bytes), what);
  return static_cast<size_t>(bytes);
}

std::string bytes_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) bytes /= 1024, ++u;
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

}  // namespace seqboat
