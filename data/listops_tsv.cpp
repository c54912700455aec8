// data/listops_tsv.cpp: the ListOps TSV, read whole or indexed (see
// listops_tsv.h). Both go through one line splitter and one set of line
// rules, so a file is accepted or refused, with the same message, whichever
// way it is read.
#include "data/listops_tsv.h"

#include <fmt/format.h>

#include <limits>
#include <stdexcept>

#include "data/data_file.h"
#include "data/line_scan.h"
#include "data/listops.h"
#include "tensor/safe_text.h"

namespace seqboat::data {

namespace {

// A row's length is kept in 32 bits by the index.
constexpr uint64_t kMaxLineBytes = std::numeric_limits<uint32_t>::max();

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
  // True, with `ex` set, when line `line_no` (1-based, fed in order) is a row.
  bool take(std::string_view line, uint64_t line_no, SeqExample& ex) {
    line_no_ = line_no;
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

OpenFile open_tsv(const std::string& path) {
  return open_data_file("listops", path, "listops TSV file", kMaxTextDataBytes);
}

// Every row of a file or text, in order.
template <class Feed>
std::vector<SeqExample> all_rows(const std::string& path, Feed feed) {
  std::vector<SeqExample> out;
  LineRules rules(path);
  auto row = [&](std::string_view line, uint64_t, uint64_t line_no) {
    SeqExample ex;
    if (rules.take(line, line_no, ex)) out.push_back(std::move(ex));
  };
  LineSplitter<decltype(row)> split(row, path, kMaxLineBytes);
  feed(split);
  rules.finish();
  return out;
}

}  // namespace

std::vector<SeqExample> parse_listops_tsv(std::string_view text, const std::string& path) {
  return all_rows(path, [&](auto& split) {
    split.feed(text);
    split.finish();
  });
}

std::vector<SeqExample> read_listops_tsv(const std::string& path) {
  const OpenFile f = open_tsv(path);
  return all_rows(path, [&](auto& split) { scan_lines(f, path, split); });
}

ListOpsFile::ListOpsFile(const std::string& path) : path_(path), file_(open_tsv(path)) {
  LineRules rules(path_);
  auto row = [&](std::string_view line, uint64_t offset, uint64_t line_no) {
    SeqExample ex;
    if (!rules.take(line, line_no, ex)) return;
    rows_.push_back(Row{offset, static_cast<uint32_t>(line.size()), static_cast<uint32_t>(ex.tokens.size()),
                        static_cast<uint8_t>(ex.label)});
  };
  LineSplitter<decltype(row)> split(row, path_, kMaxLineBytes);
  scan_lines(file_, path_, split);
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
