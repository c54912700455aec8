// tools/cli/options.cpp: see options.h.
#include "options.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "tensor/safe_text.h"
#include "train/config.h"

namespace seqboat::cli {

OptionSpec flag_option(const std::string& name, const std::string& doc) {
  OptionSpec o;
  o.name = name;
  o.kind = OptKind::Flag;
  o.doc = doc;
  return o;
}

OptionSpec text_option(const std::string& name, const std::string& value_name, const std::string& doc,
                       const std::string& default_text) {
  OptionSpec o;
  o.name = name;
  o.kind = OptKind::Text;
  o.value_name = value_name;
  o.doc = doc;
  o.default_text = default_text;
  return o;
}

OptionSpec integer_option(const std::string& name, int64_t lo, int64_t hi, int64_t fallback, const std::string& doc) {
  OptionSpec o;
  o.name = name;
  o.kind = OptKind::Integer;
  o.value_name.push_back('N');  // (not = "N": GCC 12 warns falsely, bug 105329)
  o.doc = doc;
  o.default_text = std::to_string(fallback);
  o.lo = static_cast<double>(lo);
  o.hi = static_cast<double>(hi);
  return o;
}

OptionSpec number_option(const std::string& name, double lo, double hi, double fallback, const std::string& doc) {
  OptionSpec o;
  o.name = name;
  o.kind = OptKind::Number;
  o.value_name.push_back('X');
  o.doc = doc;
  o.default_text = fmt::format("{}", fallback);
  o.lo = lo;
  o.hi = hi;
  return o;
}

OptionSpec choice_option(const std::string& name, const std::vector<std::string>& choices, const std::string& fallback,
                         const std::string& doc) {
  OptionSpec o;
  o.name = name;
  o.kind = OptKind::Choice;
  o.value_name = fmt::format("{}", fmt::join(choices, "|"));
  o.doc = doc;
  o.default_text = fallback;
  o.choices = choices;
  return o;
}

OptionSpec list_option(OptionSpec item, const std::string& default_text) {
  item.item_kind = item.kind;
  item.kind = OptKind::List;
  item.value_name += "[,...]";
  item.default_text = default_text;
  return item;
}

OptionSpec required(OptionSpec o) {
  o.required = true;
  return o;
}

OptionSpec repeatable(OptionSpec o) {
  o.repeatable = true;
  return o;
}

OptionSpec config_key_option(const std::string& name, const std::string& key, const std::string& doc) {
  const train::ConfigKey* k = train::find_config_key(key);
  if (!k || !k->default_value.is_number_integer())
    throw std::logic_error(fmt::format("config_key_option: '{}' is not an integer config key", key));
  OptionSpec o = integer_option(name, static_cast<int64_t>(k->lo), static_cast<int64_t>(k->hi),
                                k->default_value.get<int64_t>(), doc);
  return o;
}

namespace {

[[noreturn]] void bad_option(const std::string& name, const std::string& problem) {
  throw UsageError(fmt::format("option '--{}' {}", safe_text(name), problem));
}

bool is_choice(const OptionSpec& o, const std::string& text) {
  for (const std::string& c : o.choices)
    if (c == text) return true;
  return false;
}

std::string range_text(const OptionSpec& o, bool integer) {
  std::string words;
  for (const std::string& c : o.choices) words += c + " or ";
  return integer ? fmt::format("{}a whole number from {} to {}", words, static_cast<int64_t>(o.lo),
                               static_cast<int64_t>(o.hi))
                 : fmt::format("{}a number from {} to {}", words, o.lo, o.hi);
}

// One value (or one list item) of kind `kind` checked against o.
void check_value(const OptionSpec& o, OptKind kind, const std::string& value) {
  if (kind == OptKind::Integer) {
    if (!is_choice(o, value)) parse_integer_value(o, value);
  } else if (kind == OptKind::Number) {
    if (!is_choice(o, value)) parse_number_value(o, value);
  } else if (kind == OptKind::Choice) {
    if (!is_choice(o, value))
      bad_option(o.name, fmt::format("must be one of {}, got {}", fmt::join(o.choices, ", "), quote_text(value)));
  }
}

std::vector<std::string> split_items(const std::string& s) {
  std::vector<std::string> out;
  size_t at = 0;
  for (;;) {
    const size_t comma = s.find(',', at);
    out.push_back(s.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (comma == std::string::npos) return out;
    at = comma + 1;
  }
}

void check_list(const OptionSpec& o, const std::string& value) {
  const std::vector<std::string> items = split_items(value);
  for (const std::string& item : items) {
    if (item.empty())
      bad_option(o.name, fmt::format("expects a comma-separated list without empty items (each one {}), got {}",
                                     o.item_kind == OptKind::Choice ? fmt::format("{}", fmt::join(o.choices, ", "))
                                                                    : range_text(o, o.item_kind == OptKind::Integer),
                                     quote_text(value)));
    check_value(o, o.item_kind, item);
  }
}

const OptionSpec* find_option(const CommandSpec& spec, const std::string& name) {
  for (const OptionSpec& o : spec.options)
    if (o.name == name) return &o;
  return nullptr;
}

}  // namespace

int64_t parse_integer_value(const OptionSpec& o, const std::string& text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || static_cast<double>(v) < o.lo || static_cast<double>(v) > o.hi)
    bad_option(o.name, fmt::format("expects {}, got {}", range_text(o, true), quote_text(text)));
  return v;
}

double parse_number_value(const OptionSpec& o, const std::string& text) {
  double d = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, d);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(d))
    bad_option(o.name, fmt::format("expects a finite number, got {}", quote_text(text)));
  if (!(d >= o.lo && d <= o.hi))
    bad_option(o.name, fmt::format("must be from {} to {}, got {}", o.lo, o.hi, quote_text(text)));
  return d;
}

ParsedArgs parse_command_line(const CommandSpec& spec, const std::vector<std::string>& args) {
  // --help anywhere asks for the help; the other arguments are kept when
  // they parse (`train --preset NAME --help` prints that preset), else dropped.
  std::vector<std::string> rest;
  for (const std::string& a : args)
    if (a != "--help" && a != "-h") rest.push_back(a);
  if (rest.size() != args.size()) {
    ParsedArgs p;
    try {
      p = parse_command_line(spec, rest);
    } catch (const UsageError&) {
      p = ParsedArgs();
      p.spec_ = &spec;
    }
    p.help = true;
    return p;
  }
  ParsedArgs p;
  p.spec_ = &spec;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-') {  // "-" alone is a positional argument (a file name)
      p.positional_.push_back(a);
      continue;
    }
    if (a.rfind("--", 0) != 0) throw UsageError(fmt::format("unknown option {}", quote_text(a)));
    std::string name = a.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const OptionSpec* o = find_option(spec, name);
    if (!o) throw UsageError(fmt::format("unknown option {}", quote_text("--" + name)));
    if (o->kind == OptKind::Flag) {
      if (inline_value) bad_option(name, "takes no value");
    } else if (!inline_value) {
      if (i + 1 >= args.size()) bad_option(name, fmt::format("needs a value ({})", o->value_name));
      value = args[++i];
    }
    if (!o->repeatable && p.values_.count(name)) bad_option(name, "is given twice");
    if (o->kind == OptKind::List) check_list(*o, value);
    else check_value(*o, o->kind, value);
    p.values_.emplace(name, value);
  }
  for (const OptionSpec& o : spec.options)
    if (o.required && !p.values_.count(o.name)) throw UsageError(fmt::format("option '--{}' is required", o.name));
  const size_t n = p.positional_.size();
  if (n < spec.min_positional || n > spec.max_positional) {
    if (spec.max_positional == 0)
      throw UsageError(
          fmt::format("unexpected argument {} (the command takes only options)", quote_text(p.positional_.front())));
    if (n > spec.max_positional)
      throw UsageError(fmt::format("unexpected argument {} (the command takes {})",
                                   quote_text(p.positional_[spec.max_positional]), spec.positional_name));
    throw UsageError(fmt::format("{} is required", spec.positional_name));
  }
  if (!spec.positional_choices.empty())
    for (const std::string& a : p.positional_) {
      bool ok = false;
      for (const std::string& c : spec.positional_choices) ok = ok || c == a;
      if (!ok)
        throw UsageError(fmt::format("{} is not one of: {}", quote_text(a), fmt::join(spec.positional_choices, ", ")));
    }
  return p;
}

std::string ParsedArgs::text(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
  std::vector<std::string> out;
  auto [a, b] = values_.equal_range(name);
  for (auto it = a; it != b; ++it) out.push_back(it->second);
  return out;
}

int64_t ParsedArgs::integer(const std::string& name, int64_t fallback) const {
  return has(name) ? parse_integer_value(*find_option(*spec_, name), text(name)) : fallback;
}

double ParsedArgs::number(const std::string& name, double fallback) const {
  return has(name) ? parse_number_value(*find_option(*spec_, name), text(name)) : fallback;
}

std::vector<std::string> ParsedArgs::items(const std::string& name, const std::string& fallback) const {
  return split_items(text(name, fallback));
}

std::vector<int64_t> ParsedArgs::integers(const std::string& name, const std::string& fallback) const {
  std::vector<int64_t> out;
  for (const std::string& s : items(name, fallback)) out.push_back(parse_integer_value(*find_option(*spec_, name), s));
  return out;
}

std::string command_help(const CommandSpec& spec) {
  std::string usage = "usage: seqboat " + spec.name;
  if (!spec.positional_name.empty()) usage += " " + spec.positional_name;
  for (const OptionSpec& o : spec.options)
    if (o.required) usage += fmt::format(" --{} {}", o.name, o.value_name);
  usage += " [options]\n";
  std::string out = usage;
  for (const OptionSpec& o : spec.options) {
    const std::string left = o.kind == OptKind::Flag ? "--" + o.name : fmt::format("--{} {}", o.name, o.value_name);
    std::string right = o.doc;
    const OptKind k = o.kind == OptKind::List ? o.item_kind : o.kind;
    if (k == OptKind::Integer || k == OptKind::Number) {
      std::string words;
      for (const std::string& c : o.choices) words += c + " or ";
      right += k == OptKind::Integer
                   ? fmt::format(" ({}{} to {}", words, static_cast<int64_t>(o.lo), static_cast<int64_t>(o.hi))
                   : fmt::format(" ({}{} to {}", words, o.lo, o.hi);
      right += o.default_text.empty() ? ")" : fmt::format("; default {})", o.default_text);
    } else if (!o.default_text.empty()) {
      right += fmt::format(" (default {})", o.default_text);
    }
    if (o.required) right += " (required)";
    if (o.repeatable) right += " (repeatable)";
    out += fmt::format("  {:<28} {}\n", left, right);
  }
  out += "  --help                       this text\n";
  if (!spec.notes.empty()) out += spec.notes;
  return out;
}

}  // namespace seqboat::cli
