// data/imdb.h: the IMDB reviews as released (aclImdb/{train,test}/{pos,neg}/
// <id>_<rating>.txt; unsup/ and the other files are ignored) for LRA's Text
// task. Documents are raw bytes: nothing is decoded, so a cut at the length
// limit may fall inside a UTF-8 character, and the model sees bytes (vocab 256).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace seqboat::data {

struct TextDoc {
  std::string path;
  int label = 0;      // neg = 0, pos = 1
  uint64_t bytes = 0;  // file size
};

// Parses "<id>_<rating>.txt" (id and rating decimal, rating 1..10); false
// when the name does not have that form.
bool parse_imdb_name(const std::string& name, int64_t& id, int& rating);

// The documents of one split ("train" or "test") of `dir` (the aclImdb
// folder or one holding it), sorted by label then id. Files are checked by
// name (the form above; a pos review must be rated 7..10 and a neg one 1..4,
// IMDB's published rule) and size; the text is read later. Throws
// std::runtime_error naming the file or folder.
std::vector<TextDoc> index_imdb(const std::string& dir, const std::string& split);

// The first max_bytes bytes of a document (std::runtime_error "text:
// <path>: ..." when it cannot be opened or read, or is not a regular file).
std::string read_text_prefix(const std::string& path, uint64_t max_bytes);

}  // namespace seqboat::data
