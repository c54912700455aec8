// data/cifar10.cpp: CIFAR-10 binary batches, indexed and read by record as
// gray images (see cifar10.h). Files are read with POSIX pread, so a record
// is fetched without any stream state.
#include "data/cifar10.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace seqboat::data {

namespace fs = std::filesystem;

namespace {

// A batch file is 30.7 MB as released; anything over 1 GiB is not one.
constexpr uint64_t kMaxBatchBytes = uint64_t{1} << 30;
// Records checked per read while indexing (768 KiB).
constexpr uint64_t kIndexRecords = 256;

// Reads up to n bytes at `offset` (fewer only at the end of the file).
// Throws "cifar10: <path>: cannot read: <reason>".
size_t read_at(int fd, char* out, size_t n, uint64_t offset, const std::string& path) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw std::runtime_error(fmt::format("cifar10: {}: cannot read: {}", path, std::strerror(errno)));
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

}  // namespace

void check_cifar_batch_size(uint64_t bytes, const std::string& path) {
  if (bytes == 0) throw std::runtime_error(fmt::format("{}: empty file (a CIFAR-10 batch holds 3073-byte records)", path));
  if (bytes % kCifarRecordBytes != 0)
    throw std::runtime_error(fmt::format("{}: {} bytes is not a whole number of 3073-byte CIFAR-10 records ({} left over)",
                                         path, bytes, bytes % kCifarRecordBytes));
}

void check_cifar_labels(std::string_view records, uint64_t first_record, const std::string& path,
                        std::vector<uint8_t>& labels) {
  const size_t n = records.size() / kCifarRecordBytes;
  for (size_t r = 0; r < n; ++r) {
    const auto label = static_cast<uint8_t>(records[r * kCifarRecordBytes]);
    if (label >= kCifarClasses)
      throw std::runtime_error(fmt::format("{}: record {}: label {} is not 0..9", path, first_record + r + 1, label));
    labels.push_back(label);
  }
}

void cifar_record_gray(const uint8_t* record, uint8_t* gray) {
  const uint8_t *red = record + 1, *green = red + kCifarPixels, *blue = green + kCifarPixels;
  for (int p = 0; p < kCifarPixels; ++p) gray[p] = pil_luma(red[p], green[p], blue[p]);
}

std::string cifar_batch_dir(const std::string& dir) {
  if (fs::exists(fs::path(dir) / "test_batch.bin")) return dir;
  const fs::path inner = fs::path(dir) / "cifar-10-batches-bin";
  if (fs::exists(inner / "test_batch.bin")) return inner.string();
  throw std::runtime_error(fmt::format(
      "{}: no CIFAR-10 binary release here (expected test_batch.bin in it or in cifar-10-batches-bin/ under it)", dir));
}

CifarSplit::CifarSplit(const std::string& dir, bool train) {
  const fs::path root = cifar_batch_dir(dir);
  std::vector<std::string> names;
  if (train)
    for (int i = 1; i <= 5; ++i) names.push_back(fmt::format("data_batch_{}.bin", i));
  else
    names.push_back("test_batch.bin");
  try {
    std::string block(kIndexRecords * kCifarRecordBytes, '\0');
    for (const std::string& n : names) {
      File f;
      f.path = (root / n).string();
      f.first = labels_.size();
      f.fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (f.fd < 0) throw std::runtime_error(fmt::format("cifar10: {}: cannot open: {}", f.path, std::strerror(errno)));
      files_.push_back(f);  // closed by the destructor, or below when indexing fails
      struct stat st {};
      if (::fstat(f.fd, &st) != 0)
        throw std::runtime_error(fmt::format("cifar10: {}: cannot stat: {}", f.path, std::strerror(errno)));
      if (S_ISDIR(st.st_mode))
        throw std::runtime_error(fmt::format("cifar10: {}: cannot read: the CIFAR-10 batch is a directory", f.path));
      if (!S_ISREG(st.st_mode))
        throw std::runtime_error(
            fmt::format("cifar10: {}: not a regular file (a CIFAR-10 batch is read by record, from its offset)", f.path));
      const auto size = static_cast<uint64_t>(st.st_size);
      if (size > kMaxBatchBytes)
        throw std::runtime_error(fmt::format("cifar10: {}: CIFAR-10 batch is {} bytes, more than the {}-byte limit",
                                             f.path, size, kMaxBatchBytes));
      check_cifar_batch_size(size, f.path);
      for (uint64_t at = 0; at < size; at += block.size()) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(block.size(), size - at));
        if (read_at(f.fd, block.data(), want, at, f.path) != want)
          throw std::runtime_error(fmt::format("cifar10: {}: cannot read: shorter than its size ({} bytes)", f.path, size));
        check_cifar_labels(std::string_view(block.data(), want), at / kCifarRecordBytes, f.path, labels_);
      }
      files_.back().records = labels_.size() - f.first;
    }
  } catch (...) {
    for (const File& f : files_) ::close(f.fd);
    throw;
  }
}

CifarSplit::~CifarSplit() {
  for (const File& f : files_) ::close(f.fd);
}

void CifarSplit::read_gray(size_t k, uint8_t* gray) const {
  if (k >= labels_.size()) throw std::out_of_range(fmt::format("cifar10: image {} of {}", k, labels_.size()));
  size_t i = 0;
  while (k >= files_[i].first + files_[i].records) ++i;
  const File& f = files_[i];
  const uint64_t r = k - f.first;
  uint8_t rec[kCifarRecordBytes];
  if (read_at(f.fd, reinterpret_cast<char*>(rec), kCifarRecordBytes, r * kCifarRecordBytes, f.path) != kCifarRecordBytes)
    throw std::runtime_error(fmt::format("{}: record {}: cannot read it again (the file changed?)", f.path, r + 1));
  if (rec[0] != labels_[k])
    throw std::runtime_error(fmt::format("{}: record {}: label {}, but {} when the file was indexed (the file changed?)",
                                         f.path, r + 1, rec[0], labels_[k]));
  cifar_record_gray(rec, gray);
}

}  // namespace seqboat::data
