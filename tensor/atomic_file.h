// tensor/atomic_file.h: replaces a file atomically, so a reader (or a crash)
// sees either the old complete file or the new complete one, never a torn
// one. Used for every file seqboat writes whole: safetensors checkpoints,
// config.json, report files, generated data sets.
#pragma once

#include <string>
#include <string_view>

namespace seqboat {

// Writes `bytes` to a temporary file in path's directory (named
// "<path>.tmp.<pid>.<counter>", so concurrent writers, processes or threads,
// never share one), fsyncs and closes it, renames it over `path`, then fsyncs
// the directory (best effort). On a failure the temporary file is removed,
// `path` is left as it was, and std::runtime_error is thrown with the message
//   "<path>: cannot write (<step> of <tmp> failed): <OS error text>"
// where <step> is open, write, fsync, close or rename.
// First it removes temporary files for `path` left by a writer that was killed
// before it could clean up (remove_stale_temp_files).
// A path that exists and is not a regular file (/dev/null, /dev/full, a
// FIFO, a terminal) is written in place, every step checked ("<path>: cannot
// write (write failed): No space left on device"); a directory is an error; a
// symbolic link to a file keeps the link and replaces the file.
void write_file_atomic(const std::string& path, std::string_view bytes);

// A file written by appending (metrics.jsonl), every write checked: a write
// that fails throws std::runtime_error "<path>: cannot write (<step>
// failed): <OS error text>" instead of being lost in a stream's state.
class AppendFile {
 public:
  explicit AppendFile(const std::string& path);  // opens for appending (creating it)
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile();
  void append(std::string_view bytes);
  void close();  // checked; the destructor closes unchecked

 private:
  std::string path_;
  int fd_ = -1;
};

// Removes "<path>.tmp.<pid>.<n>" files whose process <pid> no longer exists.
void remove_stale_temp_files(const std::string& path);

}  // namespace seqboat
