// data/aan.h: LRA's Retrieval task, AAN citation pairs as released
// (tsv_data/new_aan_pairs.{train,eval,test}.tsv): no header; per line
// label, id1, id2, text1, text2 separated by TABs; the label is 0 or 1,
// written "0"/"1" or "0.0"/"1.0"; quotes are literal text. The file is
// indexed in one streaming pass (every line validated, its offset and
// lengths kept) and each pair is read from disk when a batch needs it, so a
// release of gigabytes is never held in memory. Texts are raw bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/file_read.h"

namespace seqboat::data {

struct AanPair {
  int label = 0;
  std::string_view id1, id2, text1, text2;
};

// One line (without its '\n'; a trailing '\r' is dropped). Throws
// std::runtime_error "<path>: line N: <problem>".
AanPair parse_aan_line(std::string_view line, const std::string& path, uint64_t line_no);

struct AanRow {
  uint64_t offset = 0;
  uint32_t bytes = 0;  // line length without '\n'
  uint32_t len1 = 0, len2 = 0;
  uint8_t label = 0;
};

// The folder holding new_aan_pairs.*.tsv: dir itself or dir/tsv_data.
std::string aan_dir(const std::string& dir);

class AanFile {
 public:
  // Indexes `path` (std::runtime_error naming the file and line on a
  // malformed line, a line over 64 MiB, an empty line before the end, or no
  // pairs at all; "retrieval: <path>: ..." when it cannot be opened or is not
  // a regular file: a FIFO or a device cannot be read by offset).
  explicit AanFile(const std::string& path);
  size_t size() const { return rows_.size(); }
  const AanRow& row(size_t i) const { return rows_.at(i); }
  // The two texts of pair i, each cut to at most max_bytes bytes.
  void read_pair(size_t i, uint64_t max_bytes, std::string& text1, std::string& text2);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<AanRow> rows_;
  std::vector<uint64_t> line_numbers_;
  OpenFile file_;
  std::string line_;  // the line read_pair reads into
};

}  // namespace seqboat::data
