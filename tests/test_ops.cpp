// tests/test_ops.cpp: the op table's two modes (tests/op_table.h), each case
// a subcase named after it:
//   "op table: grad, cpu"            gradcheck in float64 on the CPU
//   "op table: grad, cuda device"    the same with the inputs on the GPU
//   "op table: parity, cuda device vs cpu"  forward and backward, float64 and float32
//   "op table: parity harness, cpu vs cpu"  the parity mode on the CPU alone
//   "op table: parity, cuda kernels on the host vs cpu"  the CUDA kernels'
//                                    logic, run on the host (cuda/exec.h)
//   "op table: coverage, ..."        every kernel slot that a backend fills is
//                                    called by some case (cpu, the CUDA kernels
//                                    on the host, cuda device)
// The "cuda device" cases run only with a GPU: CTest runs them as
// test_ops_cuda, which reports "Skipped" with the reason when there is none
// (tests/test_main.cpp).
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "cuda_on_host.h"
#include "op_table.h"
#include "ops/backend.h"
#include "ops/dispatch.h"
#include "ops/kernel_profile.h"
#include "ops/shape.h"

namespace seqboat::testing {

OpTable& op_table() {
  static OpTable table;
  return table;
}

namespace {

// The case's inputs, made from a generator seeded by its name (stable per case).
std::vector<Tensor> inputs_of(const OpCase& c) {
  uint64_t seed = 1469598103934665603ULL;  // FNV-1a of the case name
  for (char ch : c.name) seed = (seed ^ static_cast<uint8_t>(ch)) * 1099511628211ULL;
  Generator g(seed);
  return c.make_inputs(g);
}

// The inputs on `device`, floating ones converted to `dt`; leaves keep requires_grad.
std::vector<Tensor> placed(const std::vector<Tensor>& inputs, Device device, DType dt) {
  std::vector<Tensor> out;
  for (const Tensor& t : inputs) {
    if (!t.defined()) {
      out.push_back(t);
      continue;
    }
    Tensor c = t.detach();
    if (is_floating(c.dtype())) c = c.to(dt);
    c = c.to(device).clone();
    if (t.requires_grad()) c.requires_grad_(true);
    out.push_back(c);
  }
  return out;
}

// max |a - b| / max(1, max |b|); infinite when a value is NaN or the sizes differ.
double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return INFINITY;
  double diff = 0, scale = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(a[i] - b[i]);
    diff = std::isnan(d) ? INFINITY : std::max(diff, d);
    scale = std::max(scale, std::fabs(b[i]));
  }
  return diff / scale;
}

// Output and input gradients of the case on `device` in `dt`, as host values:
// [output, grad of input 0, ...] (empty vectors for inputs without a gradient).
std::vector<std::vector<double>> run_case(const OpCase& c, const std::vector<Tensor>& inputs, Device device, DType dt) {
  std::vector<Tensor> x = placed(inputs, device, dt);
  Tensor y = c.fn(x);
  std::vector<std::vector<double>> out{y.to_vector()};
  if (y.requires_grad()) {
    std::vector<double> cot(static_cast<size_t>(y.numel()));
    for (size_t r = 0; r < cot.size(); ++r) cot[r] = 0.5 + 0.25 * std::sin(1.3 * static_cast<double>(r));
    y.backward(from_vector(cot, y.shape(), y.dtype()).to(device));
  }
  for (const Tensor& t : x)
    out.push_back(t.defined() && t.grad().defined() ? t.grad().to_vector() : std::vector<double>());
  return out;
}

void check_grad(const OpCase& c, Device device, int64_t& entries) {
  if (!c.differentiable) return;  // parity mode only
  GradcheckResult r;
  try {
    r = gradcheck(c.fn, placed(inputs_of(c), device, DType::Float64), c.options);
  } catch (const std::exception& e) {
    r.ok = false;
    r.message = std::string("threw: ") + e.what();
  }
  entries += r.elements_checked;
  CHECK_MESSAGE(r.ok, c.name << " (grad, " << std::string(device_name(device)) << "): " << r.message);
}

// Runs case c in `dt` on the CPU and through `other` (named `what`), and
// compares the output and every input gradient within the case's tolerance.
void check_against_cpu(const OpCase& c, DType dt, const std::string& what,
                       const std::function<std::vector<std::vector<double>>(const std::vector<Tensor>&)>& other) {
  const double tol = dt == DType::Float64 ? c.parity.f64 : c.parity.f32;
  std::vector<Tensor> inputs = inputs_of(c);
  std::vector<std::vector<double>> ref, got;
  try {
    ref = run_case(c, inputs, Device::CPU, dt);
  } catch (const std::exception& e) {
    FAIL_CHECK(c.name << " (parity, " << std::string(dtype_name(dt))
                      << "): the CPU run threw: " << std::string(e.what()));
    return;
  }
  try {
    got = other(inputs);
  } catch (const std::exception& e) {
    FAIL_CHECK(c.name << " (parity, " << std::string(dtype_name(dt)) << "): the " << what
                      << " run threw: " << std::string(e.what()));
    return;
  }
  for (size_t i = 0; i < ref.size(); ++i) {
    const double err = relative_error(got[i], ref[i]);
    CHECK_MESSAGE(err <= tol, c.name << " (parity, " << what << " vs cpu, " << std::string(dtype_name(dt)) << "): "
                                     << (i == 0 ? std::string("output") : fmt::format("gradient of input {}", i - 1))
                                     << " differs by " << err << " > " << tol);
  }
}

void check_parity(const OpCase& c, Device device, DType dt) {
  check_against_cpu(c, dt, device_name(device),
                    [&](const std::vector<Tensor>& inputs) { return run_case(c, inputs, device, dt); });
}

// Case c with the CPU's kernel table swapped for the CUDA kernels' host build.
void check_cuda_logic(const OpCase& c, DType dt) {
  check_against_cpu(c, dt, "cuda kernels on the host", [&](const std::vector<Tensor>& inputs) {
    CudaKernelsOnHost swap;
    return run_case(c, inputs, Device::CPU, dt);
  });
}

// Every kernel slot of the table that `device`'s backend fills (as it is now:
// the CUDA kernels' host build when swapped in) and that no call reached, as
// "name (dtype)" lines.
std::vector<std::string> slots_never_called(Device device, const std::map<KernelSlot, int64_t>& calls) {
  std::vector<std::string> missing;
  const int d = static_cast<int>(device);
  for (const KernelAvailability& k : kernel_availability()) {
    if (k.untyped) {
      if (k.has[d][0] && !calls.count(KernelSlot{k.name, device, kUntyped})) missing.push_back(k.name + " (untyped)");
      continue;
    }
    for (int t = 0; t < kNumDTypes; ++t)
      if (k.has[d][t] && !calls.count(KernelSlot{k.name, device, t}))
        missing.push_back(fmt::format("{} ({})", k.name, dtype_name(static_cast<DType>(t))));
  }
  return missing;
}

// Runs every case forward and backward in float64 and float32 on `device`
// with kernel profiling on; fails naming each filled slot no case called.
void check_coverage(Device device, const std::string& mode) {
  reset_kernel_profile();
  set_kernel_profiling(true);
  for (const OpCase& c : op_table().cases())
    for (DType dt : {DType::Float64, DType::Float32}) {
      try {
        run_case(c, inputs_of(c), device, dt);
      } catch (const std::exception& e) {
        FAIL_CHECK(c.name << " (coverage run, " << std::string(dtype_name(dt)) << "): " << std::string(e.what()));
      }
    }
  set_kernel_profiling(false);
  const std::vector<std::string> missing = slots_never_called(device, kernel_call_counts());
  reset_kernel_profile();
  CHECK_MESSAGE(missing.empty(), "kernel slots that no op-table case calls (" << mode << "): "
                                     << fmt::format("{}", fmt::join(missing, ", ")));
}

}  // namespace

TEST_CASE("op table: coverage, cpu") { check_coverage(Device::CPU, "cpu"); }

TEST_CASE("op table: coverage, cuda kernels on the host") {
  CudaKernelsOnHost swap;
  check_coverage(Device::CPU, "cuda kernels on the host");
}

TEST_CASE("op table: coverage, cuda device") { check_coverage(Device::CUDA, "cuda device"); }

TEST_CASE("op table: grad, cpu") {
  const auto& cases = op_table().cases();
  REQUIRE(cases.size() > 0);
  static int64_t entries = 0;
  for (const OpCase& c : cases) SUBCASE(c.name.c_str()) {
      check_grad(c, Device::CPU, entries);
      if (&c == &cases.back()) {
        const auto graded = std::count_if(cases.begin(), cases.end(), [](const OpCase& k) { return k.differentiable; });
        MESSAGE(fmt::format("op table: {} gradcheck cases, {} forward-only cases, {} Jacobian entries compared", graded,
                            cases.size() - static_cast<size_t>(graded), entries));
      }
    }
}

// The parity mode against itself: every case runs in float64 and float32 and
// its two runs compare equal (this is what proves the harness and each case's
// float32 variant without a GPU).
TEST_CASE("op table: parity harness, cpu vs cpu") {
  for (const OpCase& c : op_table().cases()) SUBCASE(c.name.c_str()) {
      check_parity(c, Device::CPU, DType::Float64);
      check_parity(c, Device::CPU, DType::Float32);
    }
}

// The CUDA kernels' logic without a GPU: every case through the CUDA
// backend's kernel templates instantiated with the host executor (plain loops
// for the work items, naive GEMM and DFT), against the CPU backend.
TEST_CASE("op table: parity, cuda kernels on the host vs cpu") {
  for (const OpCase& c : op_table().cases()) SUBCASE(c.name.c_str()) {
      check_cuda_logic(c, DType::Float64);
      check_cuda_logic(c, DType::Float32);
    }
}

// The attention kernels at other shared-memory sizes: none (the paths without
// tiles, taken on a GPU for very wide windows) and 200 bytes (tiles of a few
// query rows, so most cases span several tiles).
TEST_CASE("op table: parity, cuda kernels on the host vs cpu, attention without tiles and with small tiles") {
  for (size_t limit : {size_t{0}, size_t{200}})
    for (const OpCase& c : op_table().cases())
      if (c.name.rfind("local_attention/", 0) == 0) SUBCASE(fmt::format("{} bytes: {}", limit, c.name).c_str()) {
          HostSharedMemoryLimit shared(limit);
          check_cuda_logic(c, DType::Float64);
          check_cuda_logic(c, DType::Float32);
        }
}

TEST_CASE("op table: grad, cuda device") {
  static int64_t entries = 0;
  for (const OpCase& c : op_table().cases()) SUBCASE(c.name.c_str()) {
      check_grad(c, Device::CUDA, entries);
    }
}

TEST_CASE("op table: parity, cuda device vs cpu") {
  for (const OpCase& c : op_table().cases()) SUBCASE(c.name.c_str()) {
      check_parity(c, Device::CUDA, DType::Float64);
      check_parity(c, Device::CUDA, DType::Float32);
    }
}

}  // namespace seqboat::testing
