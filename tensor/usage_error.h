// tensor/usage_error.h: the one error type that means "what the user asked
// for is wrong": a bad option, --set, config key or config file. The command
// line exits with code 2 for it and with code 1 for everything else (a bad
// data file or checkpoint, a failed write, a runtime failure). A config read
// back from a checkpoint is a file: its errors are reported as the file's.
#pragma once

#include <stdexcept>

namespace seqboat {

struct UsageError : std::invalid_argument {
  using invalid_argument::invalid_argument;
};

}  // namespace seqboat
