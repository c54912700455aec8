// ListOps tokenizer, evaluator, TSV writer and seeded generator
// (docs/semantics.md section 6).
#include "data/listops.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "tensor/atomic_file.h"
#include "tensor/checked.h"
#include "tensor/json_text.h"
#include "tensor/tensor.h"

namespace seqboat::data {

namespace {

constexpr double kOperatorProb = 0.25;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Maps one token (not a parenthesis) to its id, or -1.
int32_t token_id(const char* p, size_t n) {
  if (n == 1) {
    if (*p >= '0' && *p <= '9') return kListOpsDigit0 + (*p - '0');
    if (*p == ']') return kListOpsClose;
    return -1;
  }
  const std::string_view t(p, n);
  if (t == "[MIN") return kListOpsMin;
  if (t == "[MAX") return kListOpsMax;
  if (t == "[MED") return kListOpsMed;
  if (t == "[SM") return kListOpsSm;
  return -1;
}

const char* op_name(int32_t op) {
  switch (op) {
    case kListOpsMin: return "[MIN";
    case kListOpsMax: return "[MAX";
    case kListOpsMed: return "[MED";
    case kListOpsSm: return "[SM";
    default: return nullptr;
  }
}

void append_plain(const ListOpsNode& node, std::string& out) {
  if (!out.empty()) out += ' ';
  if (listops_is_digit(node.token)) {
    out += static_cast<char>('0' + (node.token - kListOpsDigit0));
    return;
  }
  out += op_name(node.token);
  for (const auto& a : node.args) append_plain(a, out);
  out += " ]";
}

// LRA writes an operator with args a1..an as nested pairs
// (((((OP a1) a2) ...) an) ]) with every pair printed as "( x y )".
void append_paren(const ListOpsNode& node, std::string& out) {
  if (listops_is_digit(node.token)) {
    out += static_cast<char>('0' + (node.token - kListOpsDigit0));
    return;
  }
  for (size_t i = 0; i <= node.args.size(); ++i) out += "( ";
  out += op_name(node.token);
  for (const auto& a : node.args) {
    out += ' ';
    append_paren(a, out);
    out += " )";
  }
  out += " ] )";
}

void check_node(const ListOpsNode& node) {
  if (listops_is_digit(node.token)) {
    if (!node.args.empty()) fail("listops: digit node with arguments");
    return;
  }
  if (!listops_is_operator(node.token))
    fail(fmt::format("listops: node token {} is neither digit nor operator", node.token));
  if (node.args.empty()) fail("listops: operator node without arguments");
}

ListOpsNode sample_node(std::mt19937_64& rng, int depth, int max_depth, int max_args) {
  ListOpsNode node;
  if (depth < max_depth && uniform_unit(rng) < kOperatorProb) {
    node.token = kListOpsMin + static_cast<int32_t>(uniform_below(rng, 4));
    const int n_args = 2 + static_cast<int>(uniform_below(rng, static_cast<uint64_t>(max_args - 1)));
    node.args.reserve(static_cast<size_t>(n_args));
    for (int i = 0; i < n_args; ++i) node.args.push_back(sample_node(rng, depth + 1, max_depth, max_args));
  } else {
    node.token = kListOpsDigit0 + static_cast<int32_t>(uniform_below(rng, 10));
  }
  return node;
}

// Longest possible tree from a node at `depth`, saturated to avoid overflow.
long long max_tree_length(int depth, int max_depth, int max_args) {
  if (depth >= max_depth) return 1;
  const long long sub = max_tree_length(depth + 1, max_depth, max_args);
  const long long cap = 1LL << 40;
  if (sub >= cap / max_args) return cap;
  return 2 + static_cast<long long>(max_args) * sub;
}

// Upper bounds: generous for any real use, and small enough that the loops
// and the int lengths below cannot overflow.
constexpr int kMaxGenDepth = 64, kMaxGenArgs = 1000, kMaxGenLength = 1 << 20, kMaxGenExamples = 100'000'000;
// Nodes drawn for one tree before giving up: supercritical settings (many
// arguments, deep trees) grow trees without bound, and generate_listops draws
// every node of a tree even when it is too long to keep.
constexpr long long kMaxTreeNodes = 1LL << 22;

// One tree drawn as sample_node would draw it (the same random numbers in the
// same order: per node one uniform double below max_depth, then op and
// argument count or the digit, depth first), without recursion and without
// storing more than `keep` tokens: `tokens` gets the plain-form tokens while
// they fit. Returns the tree's full length.
long long sample_tokens(std::mt19937_64& rng, int max_depth, int max_args, size_t keep, std::vector<int32_t>& tokens) {
  tokens.clear();
  struct Open {
    int child_depth, remaining;
  };
  std::vector<Open> stack;
  long long length = 0, nodes = 0;
  auto emit = [&](int32_t t) {
    ++length;
    if (tokens.size() < keep) tokens.push_back(t);
  };
  for (int depth = 1;;) {
    if (++nodes > kMaxTreeNodes)
      throw UsageError(fmt::format(
          "listops gen: a tree grew past {} nodes with max_depth {} and max_args {}; trees this large cannot be "
          "generated (lower max_args or max_depth)",
          kMaxTreeNodes, max_depth, max_args));
    if (depth < max_depth && uniform_unit(rng) < kOperatorProb) {
      emit(kListOpsMin + static_cast<int32_t>(uniform_below(rng, 4)));
      const int n_args = 2 + static_cast<int>(uniform_below(rng, static_cast<uint64_t>(max_args - 1)));
      stack.push_back({depth + 1, n_args});
    } else {
      emit(kListOpsDigit0 + static_cast<int32_t>(uniform_below(rng, 10)));
    }
    while (!stack.empty() && stack.back().remaining == 0) {
      emit(kListOpsClose);
      stack.pop_back();
    }
    if (stack.empty()) return length;
    --stack.back().remaining;
    depth = stack.back().child_depth;
  }
}

// The tree of a well-formed plain token sequence, built with an explicit stack.
ListOpsNode tree_from_tokens(const std::vector<int32_t>& tokens) {
  std::vector<ListOpsNode> open;
  ListOpsNode root;
  for (int32_t t : tokens) {
    ListOpsNode done;
    if (listops_is_operator(t)) {
      open.push_back(ListOpsNode{t, {}});
      continue;
    }
    if (t == kListOpsClose) {
      done = std::move(open.back());
      open.pop_back();
    } else {
      done.token = t;
    }
    if (open.empty()) root = std::move(done);
    else open.back().args.push_back(std::move(done));
  }
  return root;
}

}  // namespace

void check_listops_gen_config(const ListOpsGenConfig& c) {
  if (c.max_depth < 1 || c.max_depth > kMaxGenDepth)
    throw UsageError(fmt::format("listops gen: max_depth must be from 1 to {} (got {})", kMaxGenDepth, c.max_depth));
  if (c.max_args < 2 || c.max_args > kMaxGenArgs)
    throw UsageError(fmt::format("listops gen: max_args must be from 2 to {} (got {})", kMaxGenArgs, c.max_args));
  if (c.n_train < 0 || c.n_val < 0 || c.n_test < 0 || c.n_train > kMaxGenExamples || c.n_val > kMaxGenExamples ||
      c.n_test > kMaxGenExamples)
    throw UsageError(fmt::format("listops gen: split sizes must be from 0 to {}", kMaxGenExamples));
  if (c.min_length < 0 || c.max_length - c.min_length < 2 || c.max_length > kMaxGenLength)
    throw UsageError(fmt::format("listops gen: need 0 <= min_length, min_length + 1 < max_length <= {} (got {}, {})",
                                 kMaxGenLength, c.min_length, c.max_length));
  const long long longest = max_tree_length(1, c.max_depth, c.max_args);
  if (longest <= c.min_length)
    throw UsageError(
        fmt::format("listops gen: the longest tree (max_depth {}, max_args {}) has length {}, not > min_length {}",
                    c.max_depth, c.max_args, longest, c.min_length));
  // The examples are held in memory (text and a set of seen texts): about 8
  // bytes per token of the longest kept sequence.
  const double bytes = (static_cast<double>(c.n_train) + c.n_val + c.n_test) * c.max_length * 8.0;
  if (bytes > static_cast<double>(max_allocation_bytes()))
    throw UsageError(
        fmt::format("listops gen: {} examples of up to {} tokens could need {}, more than this machine's {}",
                    static_cast<long long>(c.n_train) + c.n_val + c.n_test, c.max_length, bytes_text(bytes),
                    bytes_text(static_cast<double>(max_allocation_bytes()))));
}

std::vector<int32_t> tokenize_listops(const std::string& source) {
  std::vector<int32_t> out;
  out.reserve(source.size() / 2 + 1);
  const char* s = source.data();
  const size_t n = source.size();
  size_t i = 0;
  while (i < n) {
    if (is_space(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && !is_space(s[j])) ++j;
    const size_t len = j - i;
    if (!(len == 1 && (s[i] == '(' || s[i] == ')'))) {
      const int32_t id = token_id(s + i, len);
      if (id < 0)
        fail(
            fmt::format("listops: bad token {} at character {}", quote_text(std::string_view(s + i, len), 40), i + 1));
      out.push_back(id);
    }
    i = j;
  }
  return out;
}

std::string listops_token_name(int id) {
  if (id == kListOpsPad) return "<pad>";
  if (listops_is_digit(id)) return std::string(1, static_cast<char>('0' + (id - kListOpsDigit0)));
  if (listops_is_operator(id)) return op_name(id);
  if (id == kListOpsClose) return "]";
  return fmt::format("<unk:{}>", id);
}

std::string listops_detokenize(const std::vector<int32_t>& tokens) {
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) out += ' ';
    out += listops_token_name(tokens[i]);
  }
  return out;
}

int listops_apply(int32_t op, std::vector<int> v) {
  if (v.empty()) fail("listops: operator with no arguments");
  switch (op) {
    case kListOpsMin: return *std::min_element(v.begin(), v.end());
    case kListOpsMax: return *std::max_element(v.begin(), v.end());
    case kListOpsMed: {
      std::sort(v.begin(), v.end());
      const size_t m = v.size() / 2;
      if (v.size() % 2 == 1) return v[m];
      return (v[m - 1] + v[m]) / 2;  // values are >= 0: truncation toward zero
    }
    case kListOpsSm: {
      int s = 0;
      for (int x : v) s += x;
      return s % 10;
    }
    default: fail(fmt::format("listops: {} is not an operator id", op));
  }
}

int eval_listops(const std::vector<int32_t>& tokens) {
  struct Frame {
    int32_t op;
    std::vector<int> values;
  };
  std::vector<Frame> stack;
  bool have_result = false;
  int result = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t t = tokens[i];
    if (have_result)
      fail(fmt::format("listops: extra tokens after the expression at token {}", i + 1));
    if (listops_is_digit(t) || t == kListOpsClose) {
      int value;
      if (t == kListOpsClose) {
        if (stack.empty()) fail(fmt::format("listops: unmatched ']' at token {}", i + 1));
        if (stack.back().values.empty())
          fail(fmt::format("listops: operator with no arguments closed at token {}", i + 1));
        value = listops_apply(stack.back().op, std::move(stack.back().values));
        stack.pop_back();
      } else {
        value = t - kListOpsDigit0;
      }
      if (stack.empty()) {
        have_result = true;
        result = value;
      } else {
        stack.back().values.push_back(value);
      }
    } else if (listops_is_operator(t)) {
      stack.push_back(Frame{t, {}});
    } else {
      fail(fmt::format("listops: unexpected token id {} at token {}", t, i + 1));
    }
  }
  if (!stack.empty()) fail(fmt::format("listops: {} unclosed operator(s)", stack.size()));
  if (!have_result) fail("listops: empty expression");
  return result;
}

namespace {

// The expression as a tree of token positions: node i is tokens[i] and, for
// an operator, kids[i] lists its arguments' nodes in order. Built in one
// left-to-right pass with an explicit stack (no recursion: a training
// expression may nest tens of thousands deep). Each operator's arguments are
// permuted when its ']' is read, so the draws come in the order the former
// recursive version made them (children before parents, left to right), and
// a run shuffles exactly as before.
std::vector<int32_t> shuffled_tokens(const std::vector<int32_t>& tokens, Generator& rng) {
  const size_t n = tokens.size();
  std::vector<std::vector<uint32_t>> kids(n);
  std::vector<uint32_t> open;  // operators whose ']' is still to come
  size_t root_end = 0;         // > 0 once the whole expression is read
  for (size_t i = 0; i < n; ++i) {
    if (root_end) fail(fmt::format("listops: extra tokens after the expression at token {}", i + 1));
    const int32_t t = tokens[i];
    if (t == kListOpsClose && !open.empty()) {
      std::vector<uint32_t>& args = kids[open.back()];
      if (args.empty())
        fail(fmt::format("listops: operator with no arguments closed at token {}", i + 1));
      for (size_t k = args.size() - 1; k > 0; --k) std::swap(args[k], args[rng.next_below(k + 1)]);
      open.pop_back();
      if (open.empty()) root_end = i + 1;
      continue;
    }
    if (!listops_is_digit(t) && !listops_is_operator(t))
      fail(fmt::format("listops: unexpected token id {} at token {}", t, i + 1));
    if (!open.empty()) kids[open.back()].push_back(static_cast<uint32_t>(i));
    if (listops_is_operator(t)) open.push_back(static_cast<uint32_t>(i));
    else if (open.empty()) root_end = i + 1;
  }
  if (!root_end) fail("listops: expression ends early (missing ']')");
  // Emit in pre-order with an explicit stack of (node, next argument).
  std::vector<int32_t> out;
  out.reserve(n);
  std::vector<std::pair<uint32_t, size_t>> stack{{0u, 0}};
  out.push_back(tokens[0]);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (!listops_is_operator(tokens[node])) {
      stack.pop_back();
      continue;
    }
    if (next == kids[node].size()) {
      out.push_back(kListOpsClose);
      stack.pop_back();
      continue;
    }
    const uint32_t child = kids[node][next++];
    out.push_back(tokens[child]);
    stack.emplace_back(child, 0);
  }
  return out;
}

}  // namespace

std::vector<int32_t> listops_shuffle_arguments(const std::vector<int32_t>& tokens, Generator& rng) {
  if (tokens.size() > std::numeric_limits<uint32_t>::max())
    fail(fmt::format("listops: expression of {} tokens is too long", tokens.size()));
  return shuffled_tokens(tokens, rng);
}

int eval_listops(const ListOpsNode& node) {
  check_node(node);
  if (listops_is_digit(node.token)) return node.token - kListOpsDigit0;
  std::vector<int> v;
  v.reserve(node.args.size());
  for (const auto& a : node.args) v.push_back(eval_listops(a));
  return listops_apply(node.token, std::move(v));
}

int listops_length(const ListOpsNode& node) {
  if (node.args.empty() && listops_is_digit(node.token)) return 1;
  int n = 2;
  for (const auto& a : node.args) n += listops_length(a);
  return n;
}

std::vector<int32_t> listops_to_tokens(const ListOpsNode& node) {
  // The tokenizer drops parentheses, so the plain text round-trips exactly.
  return tokenize_listops(listops_to_text(node, false));
}

std::string listops_to_text(const ListOpsNode& node, bool parenthesised) {
  check_node(node);
  std::string out;
  if (parenthesised) append_paren(node, out);
  else append_plain(node, out);
  return out;
}

ListOpsNode sample_listops_tree(std::mt19937_64& rng, int max_depth, int max_args) {
  if (max_depth < 1 || max_args < 2 || max_depth > kMaxGenDepth || max_args > kMaxGenArgs)
    fail(fmt::format("listops: need 1 <= max_depth <= {} and 2 <= max_args <= {} (got {}, {})",
                                            kMaxGenDepth, kMaxGenArgs, max_depth, max_args));
  return sample_node(rng, 1, max_depth, max_args);
}

ListOpsSplits generate_listops(const ListOpsGenConfig& cfg) {
  check_listops_gen_config(cfg);
  std::mt19937_64 rng(cfg.seed);
  std::unordered_set<std::string> seen;
  const long long needed = static_cast<long long>(cfg.n_train) + cfg.n_val + cfg.n_test;
  seen.reserve(static_cast<size_t>(needed));
  // The work (tokens drawn, kept or not) is bounded by what the examples
  // asked for may cost: kBaseWork plus kWorkPerExample per example. The
  // default settings draw about 470 tokens per example kept; settings that
  // rarely give a new tree in the length window stop as soon as the rate
  // seen so far says the rest would not fit the bound (a window no tree
  // reaches: after kBaseWork tokens, well under a second).
  constexpr long long kBaseWork = 1LL << 25, kWorkPerExample = 1LL << 12;
  const long long budget = kBaseWork + kWorkPerExample * needed;
  long long work = 0, draws = 0, next_check = kBaseWork;
  auto give_up = [&](const std::string& why) {
    return UsageError(fmt::format(
        "listops gen: {}: {} of the {} examples found after drawing {} tree(s) of {} tokens in all (max_depth {}, "
        "max_args {}, min_length {} < length < max_length {}, seed {}); these settings rarely give a new tree of "
        "such a length: widen the length window, change max_depth or max_args, or ask for fewer examples",
        why, seen.size(), needed, draws, work, cfg.max_depth, cfg.max_args, cfg.min_length, cfg.max_length, cfg.seed));
  };

  auto fill = [&](std::vector<ListOpsRecord>& rows, int n) {
    rows.reserve(static_cast<size_t>(n));
    std::vector<int32_t> tokens;
    while (static_cast<int>(rows.size()) < n) {
      const long long len =
          sample_tokens(rng, cfg.max_depth, cfg.max_args, static_cast<size_t>(cfg.max_length), tokens);
      work += len;
      ++draws;
      if (len > cfg.min_length && len < cfg.max_length) {  // then `tokens` holds the whole tree
        const ListOpsNode t = tree_from_tokens(tokens);    // depth <= max_depth <= 64: recursion is fine
        std::string text = listops_to_text(t, true);
        if (seen.insert(text).second) {
          rows.push_back(ListOpsRecord{std::move(text), eval_listops(tokens)});
          continue;
        }
      }
      if (work >= next_check) {  // the rate so far, extrapolated to the examples still missing
        next_check = work + kBaseWork;
        const long long found = static_cast<long long>(seen.size());
        if (found == 0) throw give_up("no tree in the length window");
        if (static_cast<double>(work) / static_cast<double>(found) * static_cast<double>(needed) >
            static_cast<double>(budget))
          throw give_up(fmt::format("at this rate the rest would need more than the {} tokens allowed", budget));
      }
      if (work > budget) throw give_up("the work allowed is spent");
    }
  };
  ListOpsSplits s;
  fill(s.train, cfg.n_train);
  fill(s.val, cfg.n_val);
  fill(s.test, cfg.n_test);
  return s;
}

std::string listops_tsv_text(const std::vector<ListOpsRecord>& rows) {
  std::ostringstream out;
  out << "Source\tTarget\n";
  for (const auto& r : rows) out << r.source << '\t' << r.label << '\n';
  return out.str();
}

void write_listops_tsv(const std::string& path, const std::vector<ListOpsRecord>& rows) {
  write_file_atomic(path, listops_tsv_text(rows));
}

void write_listops_splits(const std::string& dir, const ListOpsGenConfig& cfg) {
  const ListOpsSplits s = generate_listops(cfg);  // first: settings it cannot satisfy leave no directory behind
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error(fmt::format("listops: cannot create directory {}: {}", quote_text(dir), ec.message()));
  const std::filesystem::path d(dir);
  write_listops_tsv((d / "basic_train.tsv").string(), s.train);
  write_listops_tsv((d / "basic_val.tsv").string(), s.val);
  write_listops_tsv((d / "basic_test.tsv").string(), s.test);
}

}  // namespace seqboat::data
