// data/line_scan.h: the one way the line-oriented data readers (ListOps and
// AAN TSV files) cut bytes into lines and index a file by its lines. Bytes
// fed in pieces are split at '\n'; each line is handed on without its '\n'
// (a '\r' stays: the formats decide), with the file offset of its first byte
// and its 1-based number; whatever follows the last '\n' is a line when it is
// not empty. A line longer than the reader's limit is an error naming the
// file and the line, raised as soon as the limit is passed (an endless line
// is never held).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "tensor/file_read.h"
#include "tensor/safe_text.h"

namespace seqboat::data {

// F: void(std::string_view line, uint64_t offset, uint64_t line_no).
template <class F>
class LineSplitter {
 public:
  LineSplitter(F line, const std::string& path, uint64_t max_line_bytes)
      : line_(std::move(line)), path_(path), max_(max_line_bytes) {}

  void feed(std::string_view piece) {
    size_t pos = 0;
    for (;;) {
      const size_t nl = piece.find('\n', pos);
      const size_t end = nl == std::string_view::npos ? piece.size() : nl;
      if (pending_.empty() && nl != std::string_view::npos) {  // a whole line inside this piece
        check(end - pos);
        line_(piece.substr(pos, end - pos), fed_ + pos, ++line_no_);
      } else {  // a line that spans pieces
        if (pending_.empty()) pending_at_ = fed_ + pos;
        check(pending_.size() + (end - pos));
        pending_.append(piece.substr(pos, end - pos));
        if (nl == std::string_view::npos) break;
        line_(std::string_view(pending_), pending_at_, ++line_no_);
        pending_.clear();
      }
      pos = nl + 1;
    }
    fed_ += piece.size();
  }
  void finish() {
    if (!pending_.empty()) line_(std::string_view(pending_), pending_at_, ++line_no_);
    pending_.clear();
  }

 private:
  void check(uint64_t bytes) const {
    if (bytes > max_)
      throw std::runtime_error(
          fmt::format("{}: line {}: longer than {} bytes", safe_text(path_), line_no_ + 1, max_));
  }

  F line_;
  const std::string& path_;
  uint64_t max_;
  std::string pending_;
  uint64_t pending_at_ = 0, fed_ = 0, line_no_ = 0;
};

// Feeds the whole of `f` to `split`, a block of 1 MiB at a time, then
// finishes it. Throws std::runtime_error "<path>: cannot read: shorter than
// its N bytes (the file changed?)" when the file shrinks while it is read.
template <class F>
void scan_lines(const OpenFile& f, const std::string& path, LineSplitter<F>& split) {
  constexpr uint64_t kBlockBytes = uint64_t{1} << 20;
  std::string block(static_cast<size_t>(std::min(kBlockBytes, f.size())), '\0');
  for (uint64_t at = 0; at < f.size(); at += block.size()) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(block.size(), f.size() - at));
    if (f.read_at(at, block.data(), want) != want)
      throw std::runtime_error(fmt::format("{}: cannot read: shorter than its {} bytes (the file changed?)",
                                           safe_text(path), f.size()));
    split.feed(std::string_view(block.data(), want));
  }
  split.finish();
}

}  // namespace seqboat::data
