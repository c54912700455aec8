// tensor/file_read.cpp: read_file_limited and OpenFile (see file_read.h), on
// POSIX open/fstat/read/pread so the size is known before reading.
#include "tensor/file_read.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "tensor/checked.h"
#include "tensor/safe_text.h"

namespace seqboat {

namespace {

struct Closer {
  int fd;
  ~Closer() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens path_c for reading and checks what both readers check: not a
// directory, a device or a socket. Returns the descriptor (owned by closer)
// and its stat.
int open_checked(const char* path_c, const std::string& path, const std::string& kind, Closer& closer,
                 struct stat& st) {
  // O_NONBLOCK: opening a FIFO without a writer must not hang (it is
  // cleared below; reading such a FIFO then finds its end at once).
  const int fd = ::open(path_c, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw FileReadError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  closer.fd = fd;
  if (::fstat(fd, &st) != 0) throw FileReadError(fmt::format("{}: cannot stat: {}", path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw FileReadError(fmt::format("{}: cannot read: the {} is a directory", path, kind));
  // A device (/dev/zero, /dev/urandom, a disk), a socket: not a file, and
  // often an endless one. A pipe (`--config <(...)`) is read up to the limit.
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
    throw FileReadError(fmt::format("{}: cannot read: the {} is a {}, not a file", path, kind,
                                    S_ISCHR(st.st_mode)    ? "character device"
                                    : S_ISBLK(st.st_mode)  ? "block device"
                                    : S_ISSOCK(st.st_mode) ? "socket"
                                                           : "special file"));
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

FileReadError too_large(const std::string& path, const std::string& kind, const struct stat& st, size_t size,
                        size_t limit) {
  return FileReadError(fmt::format("{}: {} is {}{} bytes, more than the {}-byte limit", path, kind,
                                   S_ISREG(st.st_mode) ? "" : "over ", size, limit));
}

}  // namespace

std::string read_file_limited(const std::string& path_arg, size_t max_bytes, const std::string& kind) {
  const std::string path = safe_text(path_arg);  // for the messages
  Closer closer{-1};
  struct stat st {};
  const int fd = open_checked(path_arg.c_str(), path, kind, closer, st);
  const size_t limit = std::min(max_bytes, max_allocation_bytes());
  // A regular file's size is known up front; a pipe or device is read in
  // chunks until its end or the limit.
  if (S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) > limit)
    throw too_large(path, kind, st, static_cast<size_t>(st.st_size), limit);
  std::string bytes;
  try {
    if (S_ISREG(st.st_mode)) bytes.reserve(static_cast<size_t>(st.st_size));
  } catch (const std::bad_alloc&) {
    throw FileReadError(fmt::format("{}: cannot read: out of memory for the {}'s {} bytes", path, kind, st.st_size));
  }
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FileReadError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    if (n == 0) break;
    if (bytes.size() + static_cast<size_t>(n) > limit) throw too_large(path, kind, st, limit, limit);
    try {
      bytes.append(chunk, static_cast<size_t>(n));
    } catch (const std::bad_alloc&) {
      throw FileReadError(
          fmt::format("{}: cannot read: out of memory after {} bytes of the {}", path, bytes.size(), kind));
    }
  }
  return bytes;
}

OpenFile::OpenFile(const std::string& path_arg, size_t max_bytes, const std::string& kind) : path_(safe_text(path_arg)) {
  Closer closer{-1};
  struct stat st {};
  const int fd = open_checked(path_arg.c_str(), path_, kind, closer, st);
  if (!S_ISREG(st.st_mode))
    throw FileReadError(fmt::format("{}: cannot read: the {} is a pipe, not a regular file (it is read by offset)",
                                    path_, kind));
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    throw too_large(path_, kind, st, static_cast<size_t>(st.st_size), max_bytes);
  size_ = static_cast<uint64_t>(st.st_size);
  fd_ = fd;
  closer.fd = -1;  // kept open
}

OpenFile::~OpenFile() {
  if (fd_ >= 0) ::close(fd_);
}

OpenFile::OpenFile(OpenFile&& other) noexcept : fd_(other.fd_), size_(other.size_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

size_t OpenFile::read_at(uint64_t offset, char* out, size_t n) const {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd_, out + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw FileReadError(fmt::format("{}: cannot read: {}", path_, std::strerror(errno)));
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

}  // namespace seqboat
