// tensor/file_read.h: the one way seqboat reads a whole file, and the one
// way it opens a file to read by offset. The size is checked before anything
// is read (a limit per kind of file, and for a whole file the allocation
// limit of tensor/checked.h), so a huge or endless input (a device, a FIFO)
// is an error naming the file instead of an out-of-memory.
#pragma once

#include <cstddef>
#include <cstdint>
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

// A regular file kept open to be read by offset, for the data readers that
// index a file in one pass and read an example from it when a batch needs
// it (nothing of the file is held). Opening checks what read_file_limited
// checks, with the same messages (cannot open, a directory, a device or
// socket, over max_bytes; the allocation limit does not apply: the file is
// not loaded), and refuses a pipe or FIFO, which cannot be read by offset.
// Move-only; the descriptor is closed by the destructor.
class OpenFile {
 public:
  OpenFile(const std::string& path, size_t max_bytes, const std::string& kind);
  ~OpenFile();
  OpenFile(OpenFile&& other) noexcept;
  OpenFile& operator=(OpenFile&&) = delete;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;

  uint64_t size() const { return size_; }  // when opened
  // Up to n bytes at `offset` into out: n, or fewer at the end of the file.
  // Throws FileReadError "<path>: cannot read: <reason>".
  size_t read_at(uint64_t offset, char* out, size_t n) const;

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string path_;  // safe to print
};

}  // namespace seqboat
