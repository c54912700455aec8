// tools/cli/cli.h: the subcommands of the `seqboat` command-line tool. Each
// declares its options (options.h) and runs on the checked arguments;
// run_command_line is the front door main() calls: it picks the command,
// checks its arguments, runs it, and turns whatever it throws into one safe
// line and an exit code (1: a bad file or a runtime failure; 2: a bad
// option, --set or config).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/listops.h"
#include "options.h"
#include "tensor/dtype.h"

namespace seqboat::cli {

struct Command {
  const CommandSpec& (*spec)();
  int (*run)(const ParsedArgs&);
  std::string (*help)(const ParsedArgs&) = nullptr;  // --help's text when not command_help(spec())
};

// Every command, by name (train, eval, inspect, generate, data, compare,
// parity, bench, bench-preset, kernels, version).
const std::vector<std::pair<std::string, Command>>& commands();

// The whole command line without the program name: exit code of the command.
int run_command_line(const std::vector<std::string>& args);

// The checks of a command line that need no data and no model (the CLI fuzz
// harness's target): the command's options; for `train` the resolved config
// through validate_config, returned (else null); for `data` the generator's
// settings together. A --config FILE's text comes from read_config (default:
// the file). Throws UsageError.
nlohmann::json check_command_line(const std::vector<std::string>& args,
                                  const std::function<std::string(const std::string&)>& read_config = {});

// The text of an exception for a one-line message: seqboat's own errors as
// they are; standard-library exceptions, whose text is not a sentence
// (std::bad_alloc, filesystem and JSON-library errors), as one that says what
// happened and names the path where the exception knows it.
std::string error_text(const std::exception& e);
// 2 for a UsageError (a bad option, --set or config), 1 for anything else.
int exit_code_for(const std::exception& e);

// The --device option (cpu when absent).
Device device_option(const ParsedArgs& a);
OptionSpec device_option_spec();
// --task: one of the config key `task`'s choices.
OptionSpec task_option_spec(const std::string& doc);
// Prints "seqboat <cmd>: cannot use <device>: <why>" (one line) and returns 1.
int device_error(const char* cmd, Device device);

// Sets a short OpenMP spin before idle threads sleep (GOMP_SPINCOUNT=30000,
// unless the user set it or OMP_WAIT_POLICY) and re-executes the command
// once so that libgomp sees it (tools/cli/omp_wait.cpp says why).
void apply_omp_wait_policy(char** argv);

// `seqboat data listops`'s generator settings from its (checked) options.
data::ListOpsGenConfig listops_gen_options(const ParsedArgs& a);
// `seqboat train`'s run config from its (checked) options: --task or
// --preset, then --config (its text from read_config when given, else the
// file), --set and --device, through validate_config. Throws UsageError.
nlohmann::json train_config(const ParsedArgs& a, const std::function<std::string(const std::string&)>& read_config);
// `seqboat train --help`: the options and config keys, or with --preset the
// preset's resolved configuration.
std::string train_help(const ParsedArgs& a);

const CommandSpec& train_spec();
const CommandSpec& eval_spec();
const CommandSpec& generate_spec();
const CommandSpec& data_spec();
const CommandSpec& inspect_spec();
const CommandSpec& parity_spec();
const CommandSpec& bench_spec();
const CommandSpec& compare_spec();
const CommandSpec& bench_preset_spec();
int cmd_train(const ParsedArgs& a);
int cmd_eval(const ParsedArgs& a);
int cmd_generate(const ParsedArgs& a);
int cmd_data(const ParsedArgs& a);
int cmd_inspect(const ParsedArgs& a);
int cmd_parity(const ParsedArgs& a);
int cmd_bench(const ParsedArgs& a);
int cmd_compare(const ParsedArgs& a);
int cmd_bench_preset(const ParsedArgs& a);

}  // namespace seqboat::cli
