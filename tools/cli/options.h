// tools/cli/options.h: the command line's one option layer. Every command
// declares its options in a table (name, kind, range or choices, default,
// what it does); parse_command_line checks every argument against the table
// before the command runs, so the command only ever sees values in their
// documented range. An unknown option, a value missing or given twice, a
// number that is not a number or is out of range, an unknown choice, an
// empty list or a wrong positional argument is a UsageError (exit code 2)
// naming the option. command_help prints the table, ranges included.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tensor/usage_error.h"

namespace seqboat::cli {

enum class OptKind {
  Flag,     // --name
  Text,     // --name VALUE (any text)
  Integer,  // a whole decimal number in [lo, hi]
  Number,   // a finite number in [lo, hi]
  Choice,   // one of `choices`
  List,     // comma-separated, at least one item; each item an integer, a number or a choice (item_kind)
};

struct OptionSpec {
  std::string name;  // without the leading "--"
  OptKind kind = OptKind::Flag;
  std::string value_name;  // "FILE", "N", ... (help only)
  std::string doc;
  std::string default_text;           // help only; "" when there is none
  double lo = 0, hi = 0;              // Integer, Number (and List items of those kinds)
  std::vector<std::string> choices;   // Choice; for Integer/Number: words accepted besides numbers ("own")
  OptKind item_kind = OptKind::Text;  // List: what each item is (Integer, Number or Choice)
  bool repeatable = false;            // may be given more than once (--set)
  bool required = false;
};

// Builders for the tables.
OptionSpec flag_option(const std::string& name, const std::string& doc);
OptionSpec text_option(const std::string& name, const std::string& value_name, const std::string& doc,
                       const std::string& default_text = "");
OptionSpec integer_option(const std::string& name, int64_t lo, int64_t hi, int64_t fallback, const std::string& doc);
OptionSpec number_option(const std::string& name, double lo, double hi, double fallback, const std::string& doc);
OptionSpec choice_option(const std::string& name, const std::vector<std::string>& choices, const std::string& fallback,
                         const std::string& doc);
// A list of items of `item` (an integer_option, number_option or
// choice_option describing one item); default_text is the list's default.
OptionSpec list_option(OptionSpec item, const std::string& default_text);
// The same option, required / allowed more than once.
OptionSpec required(OptionSpec o);
OptionSpec repeatable(OptionSpec o);
// An integer option that sets a config key: its range is the key's (train/config.cpp).
OptionSpec config_key_option(const std::string& name, const std::string& key, const std::string& doc);

struct CommandSpec {
  std::string name;
  std::string summary;          // one line, for `seqboat --help`
  std::string positional_name;  // help: "FILE..."; "" when the command takes none
  size_t min_positional = 0, max_positional = 0;
  std::vector<std::string> positional_choices;  // non-empty: each positional must be one of these
  std::vector<OptionSpec> options;
  std::string notes;  // help: extra lines after the options
};

// The checked arguments of one command line.
class ParsedArgs {
 public:
  bool help = false;  // --help or -h was given: print the help, nothing else
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string text(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> all(const std::string& name) const;  // a repeatable option's values
  int64_t integer(const std::string& name, int64_t fallback) const;
  double number(const std::string& name, double fallback) const;
  // A List option's items (its default when absent; parse_command_line has
  // checked each one); for Integer items see integers().
  std::vector<std::string> items(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> integers(const std::string& name, const std::string& fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend ParsedArgs parse_command_line(const CommandSpec&, const std::vector<std::string>&);
  const CommandSpec* spec_ = nullptr;
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// Checks `args` (the words after the command's name) against `spec`.
// Throws UsageError "option '--n' ...", "unknown option '--x'", ...
ParsedArgs parse_command_line(const CommandSpec& spec, const std::vector<std::string>& args);

// The command's help: usage line, one line per option with its range or
// choices and default, then the notes.
std::string command_help(const CommandSpec& spec);

// One value checked as option `name` of this spec's kind would be (also what
// parse_command_line uses): throws UsageError naming the option.
int64_t parse_integer_value(const OptionSpec& spec, const std::string& text);
double parse_number_value(const OptionSpec& spec, const std::string& text);

}  // namespace seqboat::cli
