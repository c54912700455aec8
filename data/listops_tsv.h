// data/listops_tsv.h: ListOps as LRA releases it (basic_{train,val,test}.tsv):
// a `Source<TAB>Target` header (a UTF-8 BOM allowed), then one
// `source<TAB>label` row per line (either text form of the expression, the
// label 0..9 with optional spaces around it; a trailing '\r' dropped); empty
// lines only at the end. Every row is checked the same way whatever reads
// it (tokens known, one well-formed expression): the whole file into memory
// (read_listops_tsv, parse_listops_tsv), or an index of it (ListOpsFile: one
// validating pass keeps each row's offset, length and label, and a row is
// read and parsed again when a batch needs it, so a process holds about 24
// bytes per row instead of its tokens). Errors: std::runtime_error
// "<path>: line N: <problem>"; a file that cannot be read:
// "listops: <path>: ..." (tensor/file_read.h's messages).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/example.h"
#include "tensor/file_read.h"

namespace seqboat::data {

// Every example of a TSV file, or of its text held in memory (`path` names
// it in the messages).
std::vector<SeqExample> read_listops_tsv(const std::string& path);
std::vector<SeqExample> parse_listops_tsv(std::string_view text, const std::string& path);

// A TSV file indexed: its rows are read from the file when asked for.
class ListOpsFile {
 public:
  // One pass over the file, every row parsed and checked; throws as above.
  explicit ListOpsFile(const std::string& path);
  size_t size() const { return rows_.size(); }
  int64_t length(size_t i) const { return rows_.at(i).length; }  // tokens
  int label(size_t i) const { return rows_.at(i).label; }
  // Row i (0-based; line i + 2 of the file) read and parsed again, with the
  // same checks. Throws "<path>: line N: ..." when it no longer reads as it
  // did when indexed (the file changed).
  SeqExample read(size_t i) const;

 private:
  struct Row {
    uint64_t offset = 0;  // of the line's first byte
    uint32_t bytes = 0;   // without its '\n'
    uint32_t length = 0;  // tokens
    uint8_t label = 0;
  };
  std::string path_;
  OpenFile file_;
  std::vector<Row> rows_;
};

}  // namespace seqboat::data
