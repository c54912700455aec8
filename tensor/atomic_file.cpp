// tensor/atomic_file.cpp: write_file_atomic (see atomic_file.h), on POSIX
// open/write/fsync/rename because iostreams cannot fsync.
#include "tensor/atomic_file.h"
#include "tensor/safe_text.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
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

namespace {

// Writes all of `bytes` to fd; "" or the failing step's errno text.
int write_all(int fd, std::string_view bytes) {
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    done += static_cast<size_t>(n);
  }
  return 0;
}

// A path that exists and is not a regular file (a device such as /dev/null
// or /dev/full, a FIFO, a terminal) cannot be replaced by a rename, and must
// not be (as root, renaming over /dev/full would replace the device): it is
// written in place, every step checked. A FIFO without a reader is an error,
// not a hang (O_NONBLOCK on open).
void write_in_place(const std::string& path, std::string_view bytes) {
  const char* failed_step = nullptr;
  int err = 0;
  const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    failed_step = "open", err = errno;
  } else {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    if ((err = write_all(fd, bytes)) != 0) failed_step = "write";
    if (::close(fd) != 0 && !failed_step) failed_step = "close", err = errno;
  }
  if (failed_step)
    throw std::runtime_error(
        fmt::format("{}: cannot write ({} failed): {}", safe_text(path), failed_step, std::strerror(err)));
}

}  // namespace

void write_file_atomic(const std::string& path_in, std::string_view bytes) {
  std::string path = path_in;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      throw std::runtime_error(fmt::format("{}: cannot write: it is a directory", safe_text(path)));
    if (!S_ISREG(st.st_mode)) return write_in_place(path, bytes);
    // A symbolic link to a file: the file is replaced, the link stays.
    struct stat lst {};
    if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      char* real = ::realpath(path.c_str(), nullptr);
      if (real) {
        path = real;
        std::free(real);
      }
    }
  }
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
    if ((err = write_all(fd, bytes)) != 0) failed_step = "write";
    // fsync before rename: otherwise a crash could leave path naming a file
    // whose data never reached the disk.
    if (!failed_step && ::fsync(fd) != 0) failed_step = "fsync", err = errno;
    if (::close(fd) != 0 && !failed_step) failed_step = "close", err = errno;
    if (!failed_step && ::rename(tmp.c_str(), path.c_str()) != 0) failed_step = "rename", err = errno;
    if (failed_step) ::unlink(tmp.c_str());
  }
  if (failed_step)
    throw std::runtime_error(fmt::format("{}: cannot write ({} of {} failed): {}", safe_text(path), failed_step,
                                         safe_text(tmp), std::strerror(err)));

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

AppendFile::AppendFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0)
    throw std::runtime_error(fmt::format("{}: cannot write (open failed): {}", safe_text(path), std::strerror(errno)));
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendFile::append(std::string_view bytes) {
  if (fd_ < 0) throw std::runtime_error(fmt::format("{}: cannot write: the file is closed", safe_text(path_)));
  if (const int err = write_all(fd_, bytes))
    throw std::runtime_error(fmt::format("{}: cannot write (write failed): {}", safe_text(path_), std::strerror(err)));
}

void AppendFile::close() {
  if (fd_ < 0) return;
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0)
    throw std::runtime_error(
        fmt::format("{}: cannot write (close failed): {}", safe_text(path_), std::strerror(errno)));
}

}  // namespace seqboat
