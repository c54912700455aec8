// tools/cli/cli.h: subcommands of the `seqboat` command-line tool, and the
// small argument helpers they share.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace seqboat::cli {

int usage_error(const std::string& message);  // prints message + hint, returns 2

// The value of option `--name` as a finite number in [lo, hi] / an integer in
// [lo, hi]; throws std::invalid_argument "option '--name' ...".
double parse_number_option(const std::string& name, const std::string& text, double lo, double hi);
int64_t parse_integer_option(const std::string& name, const std::string& text, int64_t lo, int64_t hi);

// Parses `--name value` / `--flag` arguments. Unknown options are errors.
class Args {
 public:
  Args(const std::vector<std::string>& args, const std::vector<std::string>& valued,
       const std::vector<std::string>& flags);
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> all(const std::string& name) const;  // repeated options
  // A finite number in [lo, hi] (else std::invalid_argument naming the
  // option, the value and the range).
  double number(const std::string& name, double fallback, double lo = -1e300, double hi = 1e300) const;
  // A whole decimal number in [lo, hi], checked before any narrowing.
  int64_t integer(const std::string& name, int64_t fallback, int64_t lo, int64_t hi) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// The --device option (cpu when absent); an unknown name throws naming it.
class Args;
Device device_option(const Args& a);
// Prints "seqboat <cmd>: cannot use <device>: <why>" (one line) and returns 1.
int device_error(const char* cmd, Device device);

int cmd_bench(const std::vector<std::string>& args);

// Sets a short OpenMP spin before idle threads sleep (GOMP_SPINCOUNT=30000,
// unless the user set it or OMP_WAIT_POLICY) and re-executes the command
// once so that libgomp sees it (tools/cli/omp_wait.cpp says why).
void apply_omp_wait_policy(char** argv);
int cmd_parity(const std::vector<std::string>& args);
int cmd_train(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_generate(const std::vector<std::string>& args);
int cmd_inspect(const std::vector<std::string>& args);
int cmd_data(const std::vector<std::string>& args);
int cmd_compare(const std::vector<std::string>& args);
int cmd_bench_preset(const std::vector<std::string>& args);

}  // namespace seqboat::cli
