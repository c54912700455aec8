// ops/kernel_profile.cpp: the per-kernel time table (see kernel_profile.h).
#include "ops/kernel_profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace seqboat {

namespace {

bool profiling_from_environment() {
  const char* v = std::getenv("SEQBOAT_PROFILE");
  return v && std::strcmp(v, "") != 0 && std::strcmp(v, "0") != 0;
}

std::atomic<bool>& flag() {
  static std::atomic<bool> on{profiling_from_environment()};
  return on;
}

struct Entry {
  int64_t calls = 0;
  double seconds = 0;
};

struct Table {
  std::mutex mu;
  // Keyed by the names' text: the same op name can come from several call sites.
  std::map<std::tuple<std::string, std::string, int>, Entry> entries;
  std::map<KernelSlot, int64_t> slots;
};

Table& table() {
  static Table t;
  return t;
}

}  // namespace

bool kernel_profiling() { return flag().load(std::memory_order_relaxed); }
void set_kernel_profiling(bool on) { flag().store(on, std::memory_order_relaxed); }

void reset_kernel_profile() {
  std::lock_guard<std::mutex> lock(table().mu);
  table().entries.clear();
  table().slots.clear();
}

bool KernelSlot::operator<(const KernelSlot& o) const {
  return std::tie(kernel, device, dtype) < std::tie(o.kernel, o.device, o.dtype);
}

std::map<KernelSlot, int64_t> kernel_call_counts() {
  std::lock_guard<std::mutex> lock(table().mu);
  return table().slots;
}

void record_kernel_call(const char* op, const char* kernel, Device device, int dtype, double seconds) {
  std::lock_guard<std::mutex> lock(table().mu);
  ++table().slots[KernelSlot{kernel, device, dtype}];
  Entry& e = table().entries[{op, kernel, static_cast<int>(device)}];
  ++e.calls;
  e.seconds += seconds;
}

std::string kernel_profile_report() {
  std::vector<std::pair<std::tuple<std::string, std::string, int>, Entry>> rows;
  {
    std::lock_guard<std::mutex> lock(table().mu);
    rows.assign(table().entries.begin(), table().entries.end());
  }
  if (rows.empty()) return "";
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  double total = 0;
  int64_t calls = 0;
  for (const auto& r : rows) {
    total += r.second.seconds;
    calls += r.second.calls;
  }
  std::string out = fmt::format("{:<24} {:<28} {:<5} {:>9} {:>10} {:>7} {:>10}\n", "op", "kernel", "dev", "calls",
                                "total ms", "share", "us/call");
  for (const auto& [key, e] : rows)
    out += fmt::format("{:<24} {:<28} {:<5} {:>9} {:>10.1f} {:>6.1f}% {:>10.1f}\n", std::get<0>(key), std::get<1>(key),
                       device_name(static_cast<Device>(std::get<2>(key))), e.calls, 1e3 * e.seconds,
                       total > 0 ? 100 * e.seconds / total : 0.0, 1e6 * e.seconds / static_cast<double>(e.calls));
  out += fmt::format("{:<24} {:<28} {:<5} {:>9} {:>10.1f}\n", "all kernels", "", "", calls, 1e3 * total);
  return out;
}

}  // namespace seqboat
