// data/aan.cpp: the AAN pair TSV (see aan.h).
#include "data/aan.h"

#include <fmt/format.h>

#include <filesystem>
#include <limits>
#include <stdexcept>

#include "data/data_file.h"
#include "data/line_scan.h"
#include "tensor/json_text.h"

namespace seqboat::data {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxLineBytes = uint64_t{64} << 20;

}  // namespace

AanPair parse_aan_line(std::string_view line, const std::string& path, uint64_t line_no) {
  auto fail = [&](const std::string& what) { return std::runtime_error(fmt::format("{}: line {}: {}", path, line_no, what)); };
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string_view f[5];
  size_t n = 0, start = 0;
  for (;;) {
    const size_t tab = line.find('\t', start);
    if (n == 5) throw fail("more than 5 TAB-separated fields (label, id1, id2, text1, text2)");
    f[n++] = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (n != 5) throw fail(fmt::format("{} TAB-separated field(s), expected 5 (label, id1, id2, text1, text2)", n));
  AanPair p;
  if (f[0] == "0" || f[0] == "0.0") p.label = 0;
  else if (f[0] == "1" || f[0] == "1.0") p.label = 1;
  else throw fail(fmt::format("label {} is not 0, 1, 0.0 or 1.0", quote_text(f[0])));
  if (f[1].empty() || f[2].empty()) throw fail("an empty document id");
  p.id1 = f[1];
  p.id2 = f[2];
  p.text1 = f[3];
  p.text2 = f[4];
  return p;
}

std::string aan_dir(const std::string& dir) {
  if (fs::exists(fs::path(dir) / "new_aan_pairs.train.tsv") || fs::exists(fs::path(dir) / "new_aan_pairs.test.tsv"))
    return dir;
  const fs::path inner = fs::path(dir) / "tsv_data";
  if (fs::is_directory(inner)) return inner.string();
  throw std::runtime_error(fmt::format(
      "{}: no AAN release here (expected new_aan_pairs.{{train,eval,test}}.tsv in it or in tsv_data/ under it)", dir));
}

AanFile::AanFile(const std::string& path) : path_(path), file_(open_data_file("retrieval", path, "AAN TSV file")) {
  uint64_t empty_line = 0;
  auto take = [&](std::string_view line, uint64_t at, uint64_t line_no) {
    if (line.empty() || line == "\r") {
      if (!empty_line) empty_line = line_no;
      return;
    }
    if (empty_line) throw std::runtime_error(fmt::format("{}: line {}: empty line", path, empty_line));
    const AanPair p = parse_aan_line(line, path, line_no);
    AanRow r;
    r.offset = at;
    r.bytes = static_cast<uint32_t>(line.size());
    r.len1 = static_cast<uint32_t>(p.text1.size());
    r.len2 = static_cast<uint32_t>(p.text2.size());
    r.label = static_cast<uint8_t>(p.label);
    rows_.push_back(r);
    line_numbers_.push_back(line_no);
  };
  LineSplitter<decltype(take)> split(take, path, kMaxLineBytes);
  scan_lines(file_, path, split);
  if (rows_.empty()) throw std::runtime_error(fmt::format("{}: no pairs", path));
}

void AanFile::read_pair(size_t i, uint64_t max_bytes, std::string& text1, std::string& text2) {
  const AanRow& r = rows_.at(i);
  line_.resize(r.bytes);
  if (file_.read_at(r.offset, line_.data(), r.bytes) != r.bytes)
    throw std::runtime_error(fmt::format("{}: line {}: cannot read it again (the file changed?)", path_, line_numbers_[i]));
  const AanPair p = parse_aan_line(line_, path_, line_numbers_[i]);
  text1.assign(p.text1.substr(0, static_cast<size_t>(std::min<uint64_t>(max_bytes, p.text1.size()))));
  text2.assign(p.text2.substr(0, static_cast<size_t>(std::min<uint64_t>(max_bytes, p.text2.size()))));
}

}  // namespace seqboat::data
