// tools/cli/errors.cpp: error_text and exit_code_for (see cli.h): what the
// command line prints for an exception, and its exit code.
#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <new>
#include <nlohmann/json.hpp>
#include <system_error>
#include <typeinfo>

#include "cli.h"
#include "tensor/checked.h"
#include "tensor/safe_text.h"

namespace seqboat::cli {

namespace {

// "filesystem error: cannot create directories: No such file or directory
// [/a] [/b]" -> "cannot create directories '/a': No such file or directory".
std::string filesystem_text(const std::filesystem::filesystem_error& e) {
  std::string what = e.what();
  const std::string prefix = "filesystem error: ";
  if (what.rfind(prefix, 0) == 0) what = what.substr(prefix.size());
  const std::string reason = e.code().message();
  const size_t cut = what.find(": " + reason);
  std::string op = cut == std::string::npos ? std::string("cannot use a file") : what.substr(0, cut);
  std::string paths;
  if (!e.path1().empty()) paths += fmt::format(" {}", quote_text(e.path1().string()));
  if (!e.path2().empty()) paths += fmt::format(" and {}", quote_text(e.path2().string()));
  return fmt::format("{}{}: {}", op, paths, reason);
}

}  // namespace

std::string error_text(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e))
    return "out of memory (what was asked for is more than this machine can hold: lower the sizes, or free memory)";
  if (const auto* fe = dynamic_cast<const std::filesystem::filesystem_error*>(&e)) return filesystem_text(*fe);
  if (dynamic_cast<const SizeError*>(&e)) return fmt::format("size too large: {}", e.what());
  if (dynamic_cast<const std::length_error*>(&e))
    return fmt::format("a size is too large for this machine ({})", safe_text(e.what()));
  if (const auto* je = dynamic_cast<const nlohmann::json::exception*>(&e)) {
    // "[json.exception.type_error.316] invalid UTF-8 byte ..." -> the part after "] ".
    std::string w = je->what();
    const size_t at = w.find("] ");
    return fmt::format("unexpected JSON error (a seqboat bug, please report it): {}",
                       at == std::string::npos ? w : w.substr(at + 2));
  }
  if (dynamic_cast<const std::system_error*>(&e)) return fmt::format("system error: {}", e.what());
  if (dynamic_cast<const std::bad_cast*>(&e) || dynamic_cast<const std::out_of_range*>(&e) ||
      dynamic_cast<const std::bad_function_call*>(&e))
    return fmt::format("unexpected internal error (a seqboat bug, please report it): {} ({})", e.what(),
                       typeid(e).name());
  return e.what();
}

int exit_code_for(const std::exception& e) { return dynamic_cast<const UsageError*>(&e) ? 2 : 1; }

}  // namespace seqboat::cli
