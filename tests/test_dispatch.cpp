// tests/test_dispatch.cpp: the kernel table (kernels/table.h) and how
// ops find kernels: every kernel has a CPU implementation, a missing kernel
// is one clear error naming the op, device, dtype and kernel, and tensors on
// different devices are refused by name.
#include <doctest/doctest.h>

#include <sstream>

#include "ops/backend.h"
#include "ops/dispatch.h"
#include "ops/elementwise.h"
#include "ops/kernel_profile.h"
#include "test_util.h"

using namespace seqboat;

TEST_CASE("kernel table: every kernel has a CPU implementation for some dtype, every backend a conv policy") {
  CHECK((backend_on(Device::CPU).ssm_conv_auto_algo != nullptr));
  const auto table = kernel_availability();
  CHECK(table.size() > 50);
  for (const KernelAvailability& k : table) {
    bool any = false;
    for (int t = 0; t < kNumDTypes; ++t) any = any || k.has[static_cast<int>(Device::CPU)][t];
    CHECK_MESSAGE(any, k.family << "/" << k.name << " has no CPU kernel");
  }
  // Floating kernels come in both float types; masks and indices are untyped.
  for (const KernelAvailability& k : table) {
    const bool f32 = k.has[0][static_cast<int>(DType::Float32)], f64 = k.has[0][static_cast<int>(DType::Float64)];
    CHECK_MESSAGE(f32 == f64, k.name << ": float32 and float64 CPU kernels differ");
  }
  const std::string text = kernel_table_text();
  for (const char* name : {"local_attention_forward", "ssm_conv_backward", "adamw_step", "dropout_mask"})
    CHECK_MESSAGE(text.find(name) != std::string::npos, name << " missing from the printed table");
}

TEST_CASE("a missing kernel is one clear error: <op>: no <device> kernel for <dtype>") {
  // A backend whose table is empty (every slot null), typed and untyped.
  static const kernels::BackendKernels empty_table;
  set_kernel_table_for_testing(Device::CPU, &empty_table);
  std::string typed, untyped, policy;
  try {
    (void)exp(from_vector({1.0}, {1}));
  } catch (const std::exception& e) {
    typed = e.what();
  }
  try {
    (void)logical_not(zeros({2}, DType::UInt8));
  } catch (const std::exception& e) {
    untyped = e.what();
  }
  set_kernel_table_for_testing(Device::CPU, nullptr);
  CHECK(typed == "exp: no cpu kernel for float64 (unary)");
  CHECK(untyped == "logical_not: no cpu kernel logical_not");
  // Integer kernels exist only where an op needs them.
  CHECK((kernels_on<int64_t>(Device::CPU).local_attention_forward == nullptr));
  seqboat::testing::check_throws_mentioning(
      [] { SEQBOAT_KERNEL("local_attention", Device::CPU, int64_t, local_attention_forward); },
      {"local_attention: no cpu kernel for int64 (local_attention_forward)"});
  // An integer tensor where floats are needed names the op and the dtype.
  seqboat::testing::check_throws_mentioning([] { exp(zeros({2}, DType::Int64)); },
                                            {"exp: expected a floating dtype", "int64"});
}

TEST_CASE("devices: the CPU is always there; cuda says why it is not") {
  CHECK(device_available(Device::CPU));
  CHECK(device_unavailable_reason(Device::CPU).empty());
  if (!device_available(Device::CUDA)) CHECK(!device_unavailable_reason(Device::CUDA).empty());
  CHECK(parse_device("cpu") == Device::CPU);
  CHECK(parse_device("cuda") == Device::CUDA);
  seqboat::testing::check_throws_mentioning([] { parse_device("tpu"); }, {"device 'tpu' is not one of: cpu, cuda"});
}

TEST_CASE("host code reads device tensors only through copies") {
  Tensor t = from_vector({1, 2, 3, 4}, {2, 2});
  CHECK(t.data<double>()[3] == 4);
  CHECK(t.ptr<double>() == t.data<double>());
  CHECK(t.transpose(0, 1).to_vector() == std::vector<double>{1, 3, 2, 4});
  CHECK(host_contiguous_copy(t.transpose(0, 1)).is_contiguous());
  CHECK(t.at({1, 0}) == 3);
}

TEST_CASE("kernel profile: off records nothing; on counts each kernel call under its op") {
  Tensor x = from_vector({1.0, -2.0, 3.0}, {3});
  set_kernel_profiling(false);
  reset_kernel_profile();
  (void)silu(x);
  CHECK(kernel_profile_report().empty());
  set_kernel_profiling(true);
  for (int i = 0; i < 3; ++i) (void)silu(x);
  (void)add(x, x);
  set_kernel_profiling(false);
  const std::string report = kernel_profile_report();
  reset_kernel_profile();
  CAPTURE(report);
  // One row per (op, kernel, device): "silu unary cpu 3 ...", "add binary cpu 1 ...".
  auto row_calls = [&](const std::string& op, const std::string& kernel) -> long {
    std::istringstream in(report);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string o, k, d;
      long calls = -1;
      if (f >> o >> k >> d >> calls && o == op && k == kernel && d == "cpu") return calls;
    }
    return -1;
  };
  CHECK(row_calls("silu", "unary") == 3);
  CHECK(row_calls("add", "binary") == 1);
  CHECK(report.find("all kernels") != std::string::npos);
  CHECK(kernel_profile_report().empty());  // reset clears it
}
