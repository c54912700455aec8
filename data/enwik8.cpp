// data/enwik8.cpp: enwik8 splits and windowed reads (see enwik8.h).
#include "data/enwik8.h"

#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>

#include "data/data_file.h"

namespace seqboat::data {

namespace fs = std::filesystem;

ByteFile::ByteFile(const std::string& path) : path_(path), file_(open_data_file("enwik8", path, "enwik8 file")) {}

void ByteFile::read(uint64_t offset, uint64_t n, uint8_t* out) const {
  if (offset > size() || n > size() - offset)
    throw std::runtime_error(fmt::format("{}: read of {} bytes at {} is outside the file ({} bytes)", path_, n, offset, size()));
  const size_t got = file_.read_at(offset, reinterpret_cast<char*>(out), static_cast<size_t>(n));
  if (got != n)
    throw std::runtime_error(
        fmt::format("{}: read failed at byte {} (unexpected end of file: the file changed?)", path_, offset + got));
}

Enwik8Splits open_enwik8(const std::string& dir, bool proportional) {
  fs::path path(dir);
  std::error_code ec;
  if (fs::is_directory(path, ec)) path /= "enwik8";
  Enwik8Splits s;
  s.file = std::make_shared<ByteFile>(path.string());
  const uint64_t n = s.file->size();
  if (!proportional) {
    if (n != kEnwik8Bytes)
      throw std::runtime_error(fmt::format(
          "{}: {} bytes; the standard enwik8 split (90M / 5M / 5M) needs exactly 100000000 (set "
          "enwik8.split=proportional to split this file 90/5/5)",
          path.string(), n));
    s.train = {0, 90'000'000};
    s.val = {90'000'000, 5'000'000};
    s.test = {95'000'000, 5'000'000};
    return s;
  }
  if (n < 3) throw std::runtime_error(fmt::format("{}: {} bytes, too small to split in three", path.string(), n));
  const uint64_t a = n * 9 / 10, b = n * 19 / 20;
  s.train = {0, a};
  s.val = {a, b - a};
  s.test = {b, n - b};
  if (s.val.size == 0 || s.test.size == 0)
    throw std::runtime_error(fmt::format("{}: {} bytes, too small to split 90/5/5", path.string(), n));
  return s;
}

}  // namespace seqboat::data
