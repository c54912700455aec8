// tensor/file_read.h: the one way seqboat reads a whole file. The size is
// checked before anything is read (a limit per kind of file, and the
// allocation limit of tensor/checked.h), so a huge or endless input (a
// device, a FIFO) is an error naming the file instead of an out-of-memory.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace seqboat {

struct FileReadError : std::runtime_error {
  using runtime_error::runtime_error;
};

// Limits for the kinds of files seqboat reads.
constexpr size_t kMaxConfigFileBytes = size_t{16} << 20;   // --config JSON
constexpr size_t kMaxTextDataBytes = size_t{4} << 30;      // ListOps TSV, corpus files, metrics.jsonl

// The bytes of `path`. Throws FileReadError "<path>: <problem>" when it cannot
// be opened or read, is a directory or a device or socket (/dev/zero, ...:
// not a file), or is larger than max_bytes (a regular file is refused from
// its size before it is read; a pipe, `--config <(...)`, is read up to the
// limit; a FIFO without a writer reads as empty instead of blocking). `kind` names the file's role in the
// message: "config file", ...
std::string read_file_limited(const std::string& path, size_t max_bytes, const std::string& kind);

}  // namespace seqboat
