// tensor/atomic_file.cpp: write_file_atomic (see atomic_file.h), on POSIX
// open/write/fsync/rename because iostreams cannot fsync.
#include "tensor/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace seqboat {

void write_file_atomic(const std::string& path, std::string_view bytes) {
  // The temp file lives in the same directory so rename() stays within one
  // filesystem and is atomic: readers of path see the old or the new file.
  static std::atomic<unsigned> counter{0};
  const std::string tmp = fmt::format("{}.tmp.{}.{}", path, ::getpid(), counter++);
  const char* failed_step = nullptr;
  int err = 0;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    failed_step = "open", err = errno;
  } else {
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        failed_step = "write", err = errno;
        break;
      }
      done += static_cast<size_t>(n);
    }
    // fsync before rename: otherwise a crash could leave path naming a file
    // whose data never reached the disk.
    if (!failed_step && ::fsync(fd) != 0) failed_step = "fsync", err = errno;
    if (::close(fd) != 0 && !failed_step) failed_step = "close", err = errno;
    if (!failed_step && ::rename(tmp.c_str(), path.c_str()) != 0) failed_step = "rename", err = errno;
    if (failed_step) ::unlink(tmp.c_str());
  }
  if (failed_step)
    throw std::runtime_error(
        fmt::format("{}: cannot write ({} of {} failed): {}", path, failed_step, tmp, std::strerror(err)));

  // Best effort: fsync the directory so the rename itself survives a crash.
  // The new file is already complete and in place, so errors are ignored.
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::filesystem::path dir = parent.empty() ? std::filesystem::path(".") : parent;
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace seqboat
