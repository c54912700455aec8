// tools/cli/command_line.cpp: `seqboat <command> [args]`: the table of
// commands, the overall usage, the `kernels` and `version` commands, and
// run_command_line, the one place where a command's exceptions become a
// message and an exit code.
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli.h"
#include "device/memory.h"
#include "data/listops.h"
#include "ops/backend.h"
#include "tensor/safe_text.h"
#include "train/config.h"

namespace seqboat::cli {

namespace {

const CommandSpec& kernels_spec() {
  static const CommandSpec s{"kernels", "which kernels each backend has, per dtype", "", 0, 0, {}, {}, ""};
  return s;
}

const CommandSpec& version_spec() {
  static const CommandSpec s{"version", "build information", "", 0, 0, {}, {}, ""};
  return s;
}

int cmd_kernels(const ParsedArgs&) {
  fmt::print("{}", kernel_table_text());
  fmt::print("(x: the backend has the kernel for that dtype; cuda: {})\n",
             device_available(Device::CUDA) ? std::string("usable here") : device_unavailable_reason(Device::CUDA));
  return 0;
}

int cmd_version(const ParsedArgs&) {
  fmt::print("seqboat 0.1 (CUDA backend: {}, device: {})\n", cuda::compiled_with_cuda() ? "built" : "not built",
             cuda::device_description());
  return 0;
}

void print_usage() {
  std::string out =
      "usage: seqboat <command> [options]   (`seqboat <command> --help` lists its options)\n\ncommands:\n";
  for (const auto& [name, c] : commands()) out += fmt::format("  {:<13} {}\n", name, c.spec().summary);
  fmt::print("{}", out);
}

// stdout is a file too: a result that could not be written (a full disk, a
// closed pipe) is a failure, not exit code 0.
int check_stdout(const std::string& cmd, int code) {
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return code;
  const int err = errno;
  std::fprintf(stderr, "seqboat %s: error: cannot write the output to standard output: %s\n", safe_text(cmd).c_str(),
               std::strerror(err));
  return 1;
}

}  // namespace

const std::vector<std::pair<std::string, Command>>& commands() {
  static const std::vector<std::pair<std::string, Command>> table = {
      {"train", {train_spec, cmd_train, train_help}},
      {"eval", {eval_spec, cmd_eval}},
      {"inspect", {inspect_spec, cmd_inspect}},
      {"generate", {generate_spec, cmd_generate}},
      {"compare", {compare_spec, cmd_compare}},
      {"data", {data_spec, cmd_data}},
      {"parity", {parity_spec, cmd_parity}},
      {"bench", {bench_spec, cmd_bench}},
      {"bench-preset", {bench_preset_spec, cmd_bench_preset}},
      {"kernels", {kernels_spec, cmd_kernels}},
      {"version", {version_spec, cmd_version}},
  };
  return table;
}

OptionSpec device_option_spec() { return choice_option("device", {"cpu", "cuda"}, "cpu", "where the model runs"); }

OptionSpec task_option_spec(const std::string& doc) {
  return choice_option("task", train::find_config_key("task")->choices, "", doc);
}

Device device_option(const ParsedArgs& a) { return parse_device(a.text("device", "cpu")); }

int device_error(const char* cmd, Device device) {
  fmt::print(stderr, "seqboat {}: cannot use {}: {}\n", cmd, device_name(device),
             safe_message(device_unavailable_reason(device)));
  return 1;
}

static const Command* find_command(const std::string& name) {
  for (const auto& [n, c] : commands())
    if (n == name) return &c;
  return nullptr;
}

nlohmann::json check_command_line(const std::vector<std::string>& args,
                                  const std::function<std::string(const std::string&)>& read_config) {
  if (args.empty()) throw UsageError("no command");
  const Command* c = find_command(args[0]);
  if (!c) throw UsageError(fmt::format("unknown command {}", quote_text(args[0])));
  const ParsedArgs a = parse_command_line(c->spec(), std::vector<std::string>(args.begin() + 1, args.end()));
  if (a.help) return nullptr;
  if (args[0] == "train") return train_config(a, read_config);
  if (args[0] == "data") {
    data::check_listops_gen_config(listops_gen_options(a));
  }
  return nullptr;
}

int run_command_line(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    print_usage();
    return check_stdout("help", args.empty() ? 2 : 0);
  }
  const std::string& name = args[0];
  const Command* c = find_command(name);
  if (!c) {
    fmt::print(stderr, "seqboat: unknown command {}\nRun `seqboat --help` for the commands.\n", quote_text(name));
    return 2;
  }
  const std::string prefix = fmt::format("seqboat {}:", name);
  int code;
  try {
    const ParsedArgs a = parse_command_line(c->spec(), std::vector<std::string>(args.begin() + 1, args.end()));
    if (a.help) {
      fmt::print("{}", c->help ? c->help(a) : command_help(c->spec()));
      code = 0;
    } else {
      code = c->run(a);
    }
  } catch (const UsageError& e) {
    fmt::print(stderr, "{} {}\nRun `seqboat {} --help` for its options.\n", prefix, safe_message(e.what()), name);
    return 2;
  } catch (const std::exception& e) {
    if (std::ferror(stdout)) return check_stdout(name, 1);  // fmt::print threw: the output could not be written
    fmt::print(stderr, "{} error: {}\n", prefix, safe_message(error_text(e)));
    return exit_code_for(e);
  }
  return check_stdout(name, code);
}

}  // namespace seqboat::cli
