// data/enwik8.h: the enwik8 file (the first 10^8 bytes of an English
// Wikipedia dump) for byte-level language modelling, read in windows from
// disk (pread) and never held in memory whole. The standard split is the
// first 90,000,000 bytes for training, the next 5,000,000 for validation and
// the last 5,000,000 for testing; it needs exactly 100,000,000 bytes. The
// proportional split cuts a file of any size (at least 3 bytes) at
// floor(0.9 N) and floor(0.95 N).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tensor/file_read.h"

namespace seqboat::data {

constexpr uint64_t kEnwik8Bytes = 100'000'000;

// A byte range of an open file.
struct ByteSpan {
  uint64_t begin = 0, size = 0;
};

class ByteFile {
 public:
  // std::runtime_error naming the file ("enwik8: <path>: ..." when it cannot
  // be opened or is not a regular file).
  explicit ByteFile(const std::string& path);
  uint64_t size() const { return file_.size(); }
  const std::string& path() const { return path_; }
  // n bytes at `offset` into out (std::runtime_error naming the file when
  // the range is outside it or the read fails).
  void read(uint64_t offset, uint64_t n, uint8_t* out) const;

 private:
  std::string path_;
  OpenFile file_;
};

struct Enwik8Splits {
  std::shared_ptr<ByteFile> file;
  ByteSpan train, val, test;
};

// dir: the folder holding the file `enwik8` (or that file). proportional =
// false needs exactly 10^8 bytes: another size is an error naming the size
// and the option that accepts it (enwik8.split=proportional).
Enwik8Splits open_enwik8(const std::string& dir, bool proportional);

}  // namespace seqboat::data
