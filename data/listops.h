// ListOps (Long Range Arena): fixed vocabulary, tokenizer for the LRA
// parenthesised and plain text forms, expression evaluation, and a seeded
// generator that writes LRA-style train/val/test files (docs/semantics.md
// section 6). The TSV reader: data/listops_tsv.h.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "data/example.h"
#include "tensor/random.h"
#include "tensor/usage_error.h"

namespace seqboat::data {

// Vocabulary: 0 = PAD, 1..10 = digits '0'..'9', then the operators and ']'.
constexpr int kListOpsVocab = 16;
constexpr int32_t kListOpsPad = 0;
constexpr int32_t kListOpsDigit0 = 1;  // digit d has id 1 + d
constexpr int32_t kListOpsMin = 11;
constexpr int32_t kListOpsMax = 12;
constexpr int32_t kListOpsMed = 13;
constexpr int32_t kListOpsSm = 14;
constexpr int32_t kListOpsClose = 15;
constexpr int kListOpsClasses = 10;

using ListOpsExample = SeqExample;

inline bool listops_is_digit(int32_t id) { return id >= kListOpsDigit0 && id < kListOpsDigit0 + 10; }
inline bool listops_is_operator(int32_t id) { return id >= kListOpsMin && id <= kListOpsSm; }

// Splits on whitespace, drops '(' and ')', maps the rest to ids. Accepts
// both `( ( ( [MAX 2 ) 9 ) ] )` and `[MAX 2 9 ]`. Throws
// std::invalid_argument naming an unknown token.
std::vector<int32_t> tokenize_listops(const std::string& source);

// Text of one token id ("[MAX", "7", "]", "<pad>"); "<unk:N>" when out of range.
std::string listops_token_name(int id);

// Plain text form of a token sequence ("[MAX 2 9 ]").
std::string listops_detokenize(const std::vector<int32_t>& tokens);

// Applies an operator token (kListOpsMin..kListOpsSm) to argument values
// 0..9. MED truncates the mean of the two middle values for an even count;
// SM is the sum mod 10. Throws std::invalid_argument on no arguments.
int listops_apply(int32_t op, std::vector<int> values);

// Evaluates a whole token sequence (one expression, no PAD). Throws
// std::invalid_argument if it is not exactly one well-formed expression.
int eval_listops(const std::vector<int32_t>& tokens);

// Expression tree: `token` is a digit id (leaf, no args) or an operator id.
struct ListOpsNode {
  int32_t token = kListOpsDigit0;
  std::vector<ListOpsNode> args;
};

int eval_listops(const ListOpsNode& node);
// Sequence length: 2 per operator plus 1 per digit.
int listops_length(const ListOpsNode& node);
std::vector<int32_t> listops_to_tokens(const ListOpsNode& node);
// LRA's parenthesised form by default; plain form with parenthesised=false.
std::string listops_to_text(const ListOpsNode& node, bool parenthesised = true);

// The same expression with every operator's arguments in a random order
// (recursively; each node permuted uniformly by Fisher-Yates with next_below).
// MIN, MAX, MED and SM do not depend on argument order, so the value, the
// length and the token multiset are unchanged: a label-preserving
// augmentation for training. Throws std::invalid_argument if `tokens` is not
// exactly one well-formed expression.
std::vector<int32_t> listops_shuffle_arguments(const std::vector<int32_t>& tokens, Generator& rng);

struct ListOpsGenConfig {
  int max_depth = 4;
  int max_args = 5;
  int min_length = 32;
  int max_length = 128;
  int n_train = 40000, n_val = 2000, n_test = 2000;
  uint64_t seed = 1;
};

// The shape of LRA's ListOps (docs/semantics.md, section 6): depth up to 10,
// 2-10 arguments, lengths strictly between 500 and 2000 (the split sizes
// and the seed are not part of it).
inline constexpr ListOpsGenConfig kLraListOps{10, 10, 500, 2000};

// One generated row: the LRA parenthesised text and its label.
struct ListOpsRecord {
  std::string source;
  int label = 0;
};

struct ListOpsSplits {
  std::vector<ListOpsRecord> train, val, test;
};

// Draws one tree per docs/semantics.md section 6 (root at depth 1; a node below
// max_depth is an operator with probability 0.25). Draw order, fixed for
// reproducibility: per node one uniform double (skipped at max_depth), then
// for an operator the op (of 4) and the argument count, then the arguments
// in order; for a leaf the digit.
ListOpsNode sample_listops_tree(std::mt19937_64& rng, int max_depth, int max_args);

// The settings checked together before anything is drawn (each in range,
// min_length + 1 < max_length, a tree longer than min_length possible, the
// examples fit in memory). Throws UsageError naming the settings.
void check_listops_gen_config(const ListOpsGenConfig& cfg);

// Generates train, then val, then test from one std::mt19937_64(seed) stream,
// keeping min_length < length < max_length and dropping any text already
// produced in any split. Throws std::invalid_argument on an impossible
// config and std::runtime_error if it stops finding new examples.
ListOpsSplits generate_listops(const ListOpsGenConfig& cfg);

// The TSV text (header, then one `source<TAB>label` line per row).
std::string listops_tsv_text(const std::vector<ListOpsRecord>& rows);

// Writes a TSV with header atomically (write_file_atomic: temp file, fsync,
// rename); an I/O failure throws std::runtime_error naming path and step.
void write_listops_tsv(const std::string& path, const std::vector<ListOpsRecord>& rows);

// Generates and writes dir/basic_{train,val,test}.tsv, creating dir.
void write_listops_splits(const std::string& dir, const ListOpsGenConfig& cfg);

}  // namespace seqboat::data
