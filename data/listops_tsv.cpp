// data/listops_tsv.cpp: the ListOps TSV, read whole or indexed (see
// listops_tsv.h). Both go through one line splitter and one set of line
// rules, so a file is accepted or refused, with the same message, whichever
// way it is read.
#include "data/listops_tsv.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "data/listops.h"
#include "tensor/safe_text.h"

namespace seqboat::data {

namespace {

constexpr size_t kBlockBytes = size_t{1} << 20;  // read at once while scanning a file

std::runtime_error line_error(const std::string& path, uint64_t line, const std::string& what) {
  return std::runtime_error(fmt::format("{}: line {}: {}", safe_text(path), line, what));
}

// One row (its '\r' already dropped): `source<TAB>label`.
SeqExample parse_row(std::string_view line, const std::string& path, uint64_t line_no) {
  const size_t tab = line.find('\t');
  if (tab == std::string_view::npos) throw line_error(path, line_no, "no tab between source and label");
  if (line.find('\t', tab + 1) != std::string_view::npos) throw line_error(path, line_no, "more than one tab");
  // Label: optional surrounding spaces, then one integer 0..9.
  size_t a = tab + 1, b = line.size();
  while (a < b && line[a] == ' ') ++a;
  while (b > a && line[b - 1] == ' ') --b;
  const std::string_view label_text = line.substr(a, b - a);
  if (label_text.size() != 1 || label_text[0] < '0' || label_text[0] > '9')
    throw line_error(path, line_no,
                     fmt::format("bad label {} (expected an integer 0..9)", quote_text(line.substr(tab + 1), 40)));
  SeqExample ex;
  ex.label = label_text[0] - '0';
  try {
    ex.tokens = tokenize_listops(std::string(line.substr(0, tab)));
  } catch (const std::invalid_argument& e) {
    throw line_error(path, line_no, e.what());
  }
  if (ex.tokens.empty()) throw line_error(path, line_no, "empty source");
  // Every reader (training, eval, inspect) gets only well-formed
  // expressions: an unbalanced one has no value to learn or score.
  try {
    (void)eval_listops(ex.tokens);
  } catch (const std::invalid_argument& e) {
    throw line_error(path, line_no, fmt::format("not one well-formed expression ({})", e.what()));
  }
  return ex;
}

std::string_view without_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// The rules over the file's lines, fed one by one (without '\n').
class LineRules {
 public:
  explicit LineRules(const std::string& path) : path_(path) {}
  // True, with `ex` set, when the line is a row.
  bool take(std::string_view line, SeqExample& ex) {
    ++line_no_;
    line = without_cr(line);
    if (line_no_ == 1) {
      if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
      if (line != "Source\tTarget")
        throw line_error(path_, 1, fmt::format("expected header 'Source<TAB>Target', got {}", quote_text(line, 40)));
      return false;
    }
    if (line.empty()) {
      if (!pending_empty_) pending_empty_ = line_no_;
      return false;
    }
    if (pending_empty_) throw line_error(path_, pending_empty_, "empty line");
    ex = parse_row(line, path_, line_no_);
    return true;
  }
  void finish() const {
    if (line_no_ == 0) throw line_error(path_, 1, "missing header 'Source<TAB>Target' (empty file)");
  }

 private:
  const std::string& path_;
  uint64_t line_no_ = 0;
  uint64_t pending_empty_ = 0;  // first empty line seen and not yet known to be trailing
};

// Splits bytes fed in pieces into lines at '\n' and calls line(text,
// offset of its first byte) for each; at the end, what follows the last
// '\n' is a line when it is not empty.
template <class F>
class LineSplitter {
 public:
  explicit LineSplitter(F line) : line_(std::move(line)) {}
  void feed(std::string_view piece) {
    size_t pos = 0;
    for (;;) {
      const size_t nl = piece.find('\n', pos);
      if (nl == std::string_view::npos) {
        if (pending_.empty()) pending_at_ = fed_ + pos;
        pending_.append(piece.substr(pos));
        break;
      }
      if (pending_.empty()) {
        line_(piece.substr(pos, nl - pos), fed_ + pos);
      } else {
        pending_.append(piece.substr(pos, nl - pos));
        line_(std::string_view(pending_), pending_at_);
        pending_.clear();
      }
      pos = nl + 1;
    }
    fed_ += piece.size();
  }
  void finish() {
    if (!pending_.empty()) line_(std::string_view(pending_), pending_at_);
  }

 private:
  F line_;
  std::string pending_;
  uint64_t pending_at_ = 0, fed_ = 0;
};

OpenFile open_tsv(const std::string& path) {
  try {
    return OpenFile(path, kMaxTextDataBytes, "listops TSV file");
  } catch (const FileReadError& e) {
    throw std::runtime_error(std::string("listops: ") + e.what());
  }
}

// Feeds the whole of `f` to `split`, a block at a time.
template <class Splitter>
void scan(const OpenFile& f, const std::string& path, Splitter& split) {
  std::string block(static_cast<size_t>(std::min<uint64_t>(kBlockBytes, f.size())), '\0');
  for (uint64_t at = 0; at < f.size(); at += block.size()) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(block.size(), f.size() - at));
    if (f.read_at(at, block.data(), want) != want)
      throw std::runtime_error(
          fmt::format("listops: {}: cannot read: shorter than its {} bytes (the file changed?)", safe_text(path), f.size()));
    split.feed(std::string_view(block.data(), want));
  }
  split.finish();
}

}  // namespace

std::vector<SeqExample> parse_listops_tsv(std::string_view text, const std::string& path) {
  std::vector<SeqExample> out;
  LineRules rules(path);
  LineSplitter split([&](std::string_view line, uint64_t) {
    SeqExample ex;
    if (rules.take(line, ex)) out.push_back(std::move(ex));
  });
  split.feed(text);
  split.finish();
  rules.finish();
  return out;
}

std::vector<SeqExample> read_listops_tsv(const std::string& path) {
  const OpenFile f = open_tsv(path);
  std::vector<SeqExample> out;
  LineRules rules(path);
  LineSplitter split([&](std::string_view line, uint64_t) {
    SeqExample ex;
    if (rules.take(line, ex)) out.push_back(std::move(ex));
  });
  scan(f, path, split);
  rules.finish();
  return out;
}

ListOpsFile::ListOpsFile(const std::string& path) : path_(path), file_(open_tsv(path)) {
  LineRules rules(path_);
  LineSplitter split([&](std::string_view line, uint64_t offset) {
    SeqExample ex;
    if (!rules.take(line, ex)) return;
    // A line is shorter than the file, which is at most kMaxTextDataBytes (4 GiB).
    if (line.size() > std::numeric_limits<uint32_t>::max())
      throw std::runtime_error(fmt::format("{}: line {}: longer than 4 GiB", safe_text(path_), rows_.size() + 2));
    rows_.push_back(Row{offset, static_cast<uint32_t>(line.size()), static_cast<uint32_t>(ex.tokens.size()),
                        static_cast<uint8_t>(ex.label)});
  });
  scan(file_, path_, split);
  rules.finish();
  rows_.shrink_to_fit();
}

SeqExample ListOpsFile::read(size_t i) const {
  const Row& r = rows_.at(i);
  const uint64_t line_no = i + 2;  // the header is line 1, and no empty line comes before a row
  std::string line(r.bytes, '\0');
  if (file_.read_at(r.offset, line.data(), line.size()) != line.size())
    throw line_error(path_, line_no, "cannot read it again (the file changed?)");
  SeqExample ex = parse_row(without_cr(line), path_, line_no);
  if (ex.label != r.label || ex.tokens.size() != r.length)
    throw line_error(path_, line_no, "not the row indexed at the start (the file changed?)");
  return ex;
}

}  // namespace seqboat::data
