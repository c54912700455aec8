// tools/cli/cli.h: subcommands of the `seqboat` command-line tool, and the
// small argument helpers they share.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace seqboat::cli {

int usage_error(const std::string& message);  // prints message + hint, returns 2

// Parses `--name value` / `--flag` arguments. Unknown options are errors.
class Args {
 public:
  Args(const std::vector<std::string>& args, const std::vector<std::string>& valued,
       const std::vector<std::string>& flags);
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> all(const std::string& name) const;  // repeated options
  double number(const std::string& name, double fallback) const;
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
int cmd_parity(const std::vector<std::string>& args);
int cmd_train(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_generate(const std::vector<std::string>& args);
int cmd_inspect(const std::vector<std::string>& args);
int cmd_data(const std::vector<std::string>& args);

}  // namespace seqboat::cli
