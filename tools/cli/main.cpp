// tools/cli/main.cpp: `seqboat <command> [args]`, the command-line front door.
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <new>

#include "cli.h"
#include "device/memory.h"
#include "ops/backend.h"
#include "tensor/checked.h"
#include "tensor/json_text.h"

namespace seqboat::cli {

static void print_usage() {
  fmt::print(
      "usage: seqboat <command> [options]\n\n"
      "commands:\n"
      "  train --task T | --preset NAME [--config F] [--set k=v ...] [--out DIR] [--device D] [--resume]\n"
      "                                     train a model (`seqboat train --help` lists every config key and preset)\n"
      "  eval --checkpoint F --task T [--data-dir DIR] [--split test] [--device D] [--json]\n"
      "                                     loss and accuracy of a checkpoint\n"
      "  inspect --checkpoint F --task T [--data-dir DIR] [--n 8] [--device D] --out DIR\n"
      "                                     SMA pictures: which tokens each layer activated, report.html\n"
      "  generate --checkpoint F --prompt TEXT [--tokens N --temperature T --top-k K --seed S --device D --no-cache]\n"
      "                                     sample bytes from an lm checkpoint\n"
      "  compare RUN_DIR... [--out DIR]     SMA across tasks: per layer, tokens routed to attention and their span\n"
      "  data listops --out DIR [--n-train N --n-val N --n-test N --seed S --max-depth D --max-args A]\n"
      "                                     write ListOps TSV files (LRA format)\n"
      "  parity [--dtype float64|float32] [--device cpu|cuda] [--tol T] FILE...\n"
      "                                     check the modules against golden safetensors files\n"
      "  bench [--device D] [--case NAME] [--L N] [--threads T] [--reps R] [--json FILE]\n"
      "                                     benchmarks: the layer, GEMM bound, a ListOps step, ssm_conv\n"
      "  bench-preset NAME... [--micro-batch N] [--threads T] [--device D]\n"
      "                                     one training step of a preset at its real sizes, and the full run's time\n"
      "  kernels                            which kernels each backend has, per dtype\n"
      "  version                            build information\n");
}

int usage_error(const std::string& message) {
  fmt::print(stderr, "seqboat: {}\nRun `seqboat --help` for usage.\n", message);
  return 2;
}

Args::Args(const std::vector<std::string>& args, const std::vector<std::string>& valued,
           const std::vector<std::string>& flags) {
  auto is = [](const std::vector<std::string>& v, const std::string& s) {
    for (const auto& x : v)
      if (x == s) return true;
    return false;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      if (!is(valued, name)) throw std::invalid_argument(fmt::format("unknown option '--{}'", name));
    } else if (is(valued, name)) {
      if (i + 1 >= args.size()) throw std::invalid_argument(fmt::format("option '--{}' needs a value", name));
      value = args[++i];
    } else if (!is(flags, name)) {
      throw std::invalid_argument(fmt::format("unknown option '--{}'", name));
    }
    values_.emplace(name, value);
  }
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::vector<std::string> Args::all(const std::string& name) const {
  std::vector<std::string> out;
  auto [a, b] = values_.equal_range(name);
  for (auto it = a; it != b; ++it) out.push_back(it->second);
  return out;
}

double parse_number_option(const std::string& name, const std::string& text, double lo, double hi) {
  double d = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, d);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(d))
    throw std::invalid_argument(
        fmt::format("option '--{}' expects a finite number, got {}", name, seqboat::quote_text(text)));
  if (!(d >= lo && d <= hi))
    throw std::invalid_argument(fmt::format("option '--{}' must be from {} to {}, got {}", name, lo, hi, text));
  return d;
}

int64_t parse_integer_option(const std::string& name, const std::string& text, int64_t lo, int64_t hi) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < lo || v > hi)
    throw std::invalid_argument(fmt::format("option '--{}' expects a whole number from {} to {}, got {}", name, lo,
                                            hi, seqboat::quote_text(text)));
  return v;
}

double Args::number(const std::string& name, double fallback, double lo, double hi) const {
  return has(name) ? parse_number_option(name, get(name), lo, hi) : fallback;
}

int64_t Args::integer(const std::string& name, int64_t fallback, int64_t lo, int64_t hi) const {
  return has(name) ? parse_integer_option(name, get(name), lo, hi) : fallback;
}

Device device_option(const Args& a) { return parse_device(a.get("device", "cpu")); }

int device_error(const char* cmd, Device device) {
  fmt::print(stderr, "seqboat {}: cannot use {}: {}\n", cmd, device_name(device), device_unavailable_reason(device));
  return 1;
}

}  // namespace seqboat::cli

int main(int argc, char** argv) {
  using namespace seqboat::cli;
  apply_omp_wait_policy(argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    print_usage();
    return args.empty() ? 2 : 0;
  }
  std::map<std::string, std::function<int(const std::vector<std::string>&)>> commands = {
      {"parity", cmd_parity},     {"bench", cmd_bench},
      {"train", cmd_train},
      {"eval", cmd_eval},
      {"generate", cmd_generate},
      {"inspect", cmd_inspect},
      {"data", cmd_data},
      {"compare", cmd_compare},
      {"bench-preset", cmd_bench_preset},
      {"kernels",
       [](const std::vector<std::string>&) {
         fmt::print("{}", seqboat::kernel_table_text());
         fmt::print("(x: the backend has the kernel for that dtype; cuda: {})\n",
                    seqboat::device_available(seqboat::Device::CUDA)
                        ? std::string("usable here")
                        : seqboat::device_unavailable_reason(seqboat::Device::CUDA));
         return 0;
       }},
      {"version",
       [](const std::vector<std::string>&) {
         fmt::print("seqboat 0.1 (CUDA backend: {}, device: {})\n",
                    seqboat::cuda::compiled_with_cuda() ? "built" : "not built", seqboat::cuda::device_description());
         return 0;
       }},
  };
  auto it = commands.find(args[0]);
  if (it == commands.end()) return usage_error(fmt::format("unknown command '{}'", args[0]));
  std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    return it->second(rest);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "seqboat {}: {}\n", args[0], e.what());
    return 2;
  } catch (const seqboat::SizeError& e) {
    fmt::print(stderr, "seqboat {}: error: size too large: {}\n", args[0], e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    // The library's own size checks name what they size; this is what is
    // left: many allocations that together exceed the machine's memory.
    fmt::print(stderr,
               "seqboat {}: error: out of memory (the model, batch or data set configured is larger than this "
               "machine can hold; lower the sizes)\n",
               args[0]);
    return 1;
  } catch (const std::length_error& e) {
    fmt::print(stderr, "seqboat {}: error: a size is too large ({})\n", args[0], e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "seqboat {}: error: {}\n", args[0], e.what());
    return 1;
  }
}
