// tensor/atomic_file.cpp: write_file_atomic (see atomic_file.h), on POSIX
// open/write/fsync/rename because iostreams cannot fsync.
#include "tensor/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace seqboat {

// Temporary files "<name>.tmp.<pid>.<n>" next to path whose writer process
// is gone (killed mid-write: it never reached its rename or unlink). Another
// live process's file is left alone; so is anything not named that way.
void remove_stale_temp_files(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  const std::string prefix = p.filename().string() + ".tmp.";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());  // "<pid>.<n>"
    const size_t dot = rest.find('.');
    if (dot == 0 || dot == std::string::npos || dot > 9) continue;
    if (rest.find_first_not_of("0123456789.") != std::string::npos || rest.find('.', dot + 1) != std::string::npos)
      continue;
    const long pid = std::stol(rest.substr(0, dot));  // <= 9 digits: fits
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code rm;
    fs::remove(it->path(), rm);
  }
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  remove_stale_temp_files(path);
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
