// tensor/file_read.cpp: read_file_limited (see file_read.h), on POSIX
// open/fstat/read so the size is known before reading.
#include "tensor/file_read.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tensor/checked.h"

namespace seqboat {

std::string read_file_limited(const std::string& path, size_t max_bytes, const std::string& kind) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FileReadError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw FileReadError(fmt::format("{}: cannot stat: {}", path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw FileReadError(fmt::format("{}: cannot read: the {} is a directory", path, kind));
  const size_t limit = std::min(max_bytes, max_allocation_bytes());
  auto too_large = [&](size_t size) {
    return FileReadError(fmt::format("{}: {} is {}{} bytes, more than the {}-byte limit", path, kind,
                                     S_ISREG(st.st_mode) ? "" : "over ", size, limit));
  };
  // A regular file's size is known up front; a pipe or device is read in
  // chunks until its end or the limit.
  if (S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) > limit) throw too_large(static_cast<size_t>(st.st_size));
  std::string bytes;
  if (S_ISREG(st.st_mode)) bytes.reserve(static_cast<size_t>(st.st_size));
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FileReadError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    if (n == 0) break;
    if (bytes.size() + static_cast<size_t>(n) > limit) throw too_large(limit);
    bytes.append(chunk, static_cast<size_t>(n));
  }
  return bytes;
}

}  // namespace seqboat
