// tests/test_hardening_cli.cpp: the command line's option layer and its
// boundary. Every command's options are checked against its table before it
// runs (ranges, choices, lists, unknown or repeated options, positionals);
// every numeric option documents its range in --help; standard-library
// exceptions become sentences; exit codes are 2 for usage, 1 for the rest.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <new>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tools/cli/cli.h"
#include "train/config.h"

using namespace seqboat;
using namespace seqboat::cli;
using doctest::Contains;

namespace {

ParsedArgs parse(const std::string& command, std::vector<std::string> args) {
  for (const auto& [name, c] : commands())
    if (name == command) return parse_command_line(c.spec(), args);
  throw std::logic_error("no command " + command);
}

}  // namespace

TEST_CASE("every command: unknown options, stray arguments and --help") {
  for (const auto& [name, c] : commands()) {
    CAPTURE(name);
    CHECK_THROWS_WITH_AS(parse_command_line(c.spec(), {"--bogus"}), Contains("unknown option '--bogus'"), UsageError);
    CHECK_THROWS_WITH_AS(parse_command_line(c.spec(), {"--b\x1b[2J=1"}), Contains("unknown option '--b\\x1b[2J'"),
                         UsageError);
    CHECK_THROWS_WITH_AS(parse_command_line(c.spec(), {"-x"}), Contains("unknown option '-x'"), UsageError);
    CHECK(parse_command_line(c.spec(), {"--help"}).help);
    // Every numeric option states its range in the help text.
    const std::string help = command_help(c.spec());
    for (const OptionSpec& o : c.spec().options) {
      const OptKind k = o.kind == OptKind::List ? o.item_kind : o.kind;
      if (k == OptKind::Integer || k == OptKind::Number)
        CHECK_MESSAGE(help.find(fmt::format("--{} ", o.name)) != std::string::npos, o.name);
      if (k == OptKind::Integer)
        CHECK_MESSAGE(help.find(fmt::format("{} to {}", static_cast<int64_t>(o.lo), static_cast<int64_t>(o.hi))) !=
                          std::string::npos,
                      o.name);
    }
  }
  CHECK_THROWS_WITH_AS(parse("kernels", {"extra"}), Contains("unexpected argument 'extra'"), UsageError);
  CHECK_THROWS_WITH_AS(parse("version", {"--verbose"}), Contains("unknown option"), UsageError);
  CHECK_THROWS_WITH_AS(parse("data", {"listops", "listops", "--out", "d"}), Contains("unexpected argument"),
                       UsageError);
  CHECK_THROWS_WITH_AS(parse("data", {"recall", "--out", "d"}), Contains("'recall' is not one of: listops"),
                       UsageError);
  CHECK_THROWS_WITH_AS(parse("data", {"--out", "d"}), Contains("listops is required"), UsageError);
  CHECK_THROWS_WITH_AS(parse("parity", {}), Contains("FILE.safetensors... is required"), UsageError);
}

TEST_CASE("option values: ranges, numbers, choices, lists, repeats") {
  CHECK_THROWS_WITH_AS(parse("generate", {"--checkpoint", "c", "--top-k", "257"}),
                       Contains("option '--top-k' expects a whole number from 0 to 256, got '257'"), UsageError);
  CHECK_THROWS_WITH_AS(parse("generate", {"--checkpoint", "c", "--tokens", "1e3"}), Contains("'--tokens'"), UsageError);
  CHECK_THROWS_WITH_AS(parse("generate", {"--checkpoint", "c", "--temperature", "inf"}),
                       Contains("expects a finite number, got 'inf'"), UsageError);
  CHECK_THROWS_WITH_AS(parse("generate", {"--checkpoint", "c", "--seed", "-1"}), Contains("'--seed'"), UsageError);
  CHECK_THROWS_WITH_AS(parse("generate", {"--prompt", "x"}), Contains("option '--checkpoint' is required"), UsageError);
  CHECK_THROWS_WITH_AS(parse("eval", {"--checkpoint", "a", "--checkpoint", "b"}), Contains("is given twice"),
                       UsageError);
  CHECK_THROWS_WITH_AS(parse("eval", {"--checkpoint", "a", "--json=yes"}), Contains("'--json' takes no value"),
                       UsageError);
  CHECK_THROWS_WITH_AS(parse("eval", {"--checkpoint"}), Contains("'--checkpoint' needs a value"), UsageError);
  CHECK_THROWS_WITH_AS(parse("eval", {"--checkpoint", "a", "--split", "dev"}),
                       Contains("'--split' must be one of test, val, train, got 'dev'"), UsageError);
  CHECK_THROWS_WITH_AS(parse("eval", {"--checkpoint", "a", "--device", "tpu"}), Contains("'--device' must be one of"),
                       UsageError);
  CHECK_THROWS_WITH_AS(parse("inspect", {"--checkpoint", "a", "--out", "o", "--n", "513"}), Contains("from 0 to 512"),
                       UsageError);
  CHECK_THROWS_WITH_AS(parse("parity", {"--tol", "-1", "f"}), Contains("'--tol' must be from 0 to"), UsageError);
  CHECK_THROWS_WITH_AS(parse("parity", {"--tol", "nan", "f"}), Contains("finite number"), UsageError);
  CHECK_THROWS_WITH_AS(parse("train", {"--task", "recall", "--stop-after", "-3"}), Contains("'--stop-after'"),
                       UsageError);
  CHECK_THROWS_WITH_AS(check_command_line({"train", "--set", "steps=1"}), Contains("--task or --preset is required"),
                       UsageError);
  CHECK_THROWS_WITH_AS(check_command_line({"train", "--preset", "sc10", "--task", "listops"}),
                       Contains("preset sc10 trains task speech, not --task listops"), UsageError);
  CHECK_THROWS_WITH_AS(parse("train", {"--preset", "lra-chess"}),
                       Contains("option '--preset' must be one of lra-listops"), UsageError);
  CHECK_THROWS_WITH_AS(parse("bench-preset", {"lra-chess"}), Contains("'lra-chess' is not one of: lra-listops"),
                       UsageError);
  // Lists: at least one item, no empty items, each item checked.
  for (const char* l : {"", ",", "256,", ",256", "256,,512"})
    CHECK_THROWS_WITH_AS(parse("bench", {"--L", l}), Contains("without empty items"), UsageError);
  CHECK_THROWS_WITH_AS(parse("bench", {"--L", "256,0"}), Contains("from 1 to 16777216, got '0'"), UsageError);
  CHECK_THROWS_WITH_AS(parse("bench", {"--density", "own,1.5"}), Contains("from 0 to 1, got '1.5'"), UsageError);
  CHECK_THROWS_WITH_AS(parse("bench", {"--case", "conv,bogus"}), Contains("got 'bogus'"), UsageError);
  CHECK_THROWS_WITH_AS(parse("bench", {"--threads", "0"}), Contains("from 1 to 1024"), UsageError);
  const ParsedArgs ok = parse("bench", {"--L=64,128", "--density", "own,0.5", "--threads", "1024"});
  CHECK(ok.integers("L", "1") == std::vector<int64_t>{64, 128});
  CHECK(ok.items("density", "own") == std::vector<std::string>{"own", "0.5"});
  CHECK(ok.integer("threads", 2) == 1024);
  // The data command's ranges are the config keys' (one declaration).
  const train::ConfigKey* k = train::find_config_key("listops.max_args");
  REQUIRE(k);
  CHECK_THROWS_WITH_AS(parse("data", {"listops", "--out", "d", "--max-args", std::to_string(int64_t(k->hi) + 1)}),
                       Contains(fmt::format("from {} to {}", int64_t(k->lo), int64_t(k->hi)).c_str()), UsageError);
  CHECK_THROWS_WITH_AS(parse("data", {"listops", "--out", "d", "--n-train", "0"}), Contains("'--n-train'"), UsageError);
}

TEST_CASE("check_command_line: train's --set values and config through validate_config, no file or model needed") {
  CHECK_NOTHROW(check_command_line({"train", "--task", "recall", "--set", "steps=1000"}));
  CHECK_THROWS_WITH_AS(check_command_line({"train", "--task", "recall", "--set", "steps=1.5"}),
                       Contains("config key 'steps': expected an integer"), UsageError);
  CHECK_THROWS_WITH_AS(check_command_line({"train", "--task", "recall", "--set", "threads=1025"}),
                       Contains("config key 'threads': number 1025 is out of range (an integer from 0 to 1024)"),
                       UsageError);
  CHECK_THROWS_WITH_AS(
      check_command_line({"train", "--task", "recall", "--set", "model.rel_pos_bias=rotary", "--set", "model.d_qk=5"}),
      Contains("'model.d_qk': must be even"), UsageError);
  CHECK_THROWS_WITH_AS(check_command_line({"train", "--task", "recall", "--resume", "--overwrite"}),
                       Contains("exclude each other"), UsageError);
  CHECK_THROWS_WITH_AS(check_command_line({"frobnicate"}), Contains("unknown command 'frobnicate'"), UsageError);
}

TEST_CASE("config: JSON integers must be integral and in range; unknown sections refused even when empty") {
  using train::resolve_config_text;
  for (const char* text : {R"({"steps": 3.9})", R"({"steps": 1e300})", R"({"steps": 3.0})",
                           R"({"steps": 18446744073709551616})", R"({"steps": -1})", R"({"steps": true})"}) {
    CAPTURE(text);
    CHECK_THROWS_WITH_AS(resolve_config_text("recall", text, "c.json", {}), Contains("config key 'steps'"), UsageError);
  }
  CHECK_THROWS_WITH_AS(resolve_config_text("recall", R"({"bogus": {}})", "c.json", {}), Contains("unknown key 'bogus'"),
                       UsageError);
  CHECK_THROWS_WITH_AS(resolve_config_text("recall", R"({"model": {"extra": {}}})", "c.json", {}),
                       Contains("unknown key 'model.extra'"), UsageError);
  CHECK_THROWS_WITH_AS(resolve_config_text("recall", R"({"model": {"d_model": 8}, "model.d_model": 9})", "c.json", {}),
                       Contains("key 'model.d_model' is given twice"), UsageError);
  CHECK(resolve_config_text("recall", R"({"model": {}, "lm": {}})", "c.json", {})["model.d_model"] == 64);
  CHECK_THROWS_WITH_AS(resolve_config_text("recall", "", "", {"lr=nan"}), Contains("cannot parse 'nan' as a number"),
                       UsageError);
  CHECK_THROWS_WITH_AS(resolve_config_text("recall", "", "", {"model.dropout=1"}), Contains("out of range"),
                       UsageError);
  // Every numeric key's range is declared, and every task's defaults lie in it.
  for (const train::ConfigKey& key : train::config_keys())
    if (key.default_value.is_number()) CHECK_MESSAGE(key.lo < key.hi, key.name);
}

TEST_CASE("error_text: standard-library exceptions become sentences; exit codes") {
  CHECK(error_text(std::bad_alloc()).find("out of memory") == 0);
  const std::filesystem::filesystem_error fe("cannot create directories", std::filesystem::path("/proc/x\x1b"),
                                             std::make_error_code(std::errc::no_such_file_or_directory));
  CHECK(error_text(fe) == "cannot create directories '/proc/x\\x1b': No such file or directory");
  try {
    (void)nlohmann::json::parse("[1]").at("key");
  } catch (const nlohmann::json::exception& e) {
    const std::string t = error_text(e);
    CHECK(t.find("[json.exception") == std::string::npos);
    CHECK(t.find("a seqboat bug") != std::string::npos);
  }
  CHECK(exit_code_for(UsageError("x")) == 2);
  CHECK(exit_code_for(std::runtime_error("x")) == 1);
  CHECK(exit_code_for(std::invalid_argument("x")) == 1);  // a library's argument error on a file's data
}

TEST_CASE("the CLI fuzz harness's seed corpus covers every documented option and config key") {
  // tests/fuzz/make_cli_seeds.py writes one seed per option and key from
  // --help; run it again when this fails. Seeds by command (their first word).
  std::map<std::string, std::string> by_command;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(SEQBOAT_SOURCE_DIR) + "/tests/fuzz/corpus/fuzz_cli")) {
    const std::string seed = seqboat::testing::read_all(e.path());
    by_command[seed.substr(0, seed.find('\0'))] += seed + '\n';
  }
  for (const auto& [name, c] : commands()) {
    const std::string& seeds = by_command[name];
    CHECK_MESSAGE(!seeds.empty(), name);
    for (const OptionSpec& o : c.spec().options)
      CHECK_MESSAGE(seeds.find("--" + o.name) != std::string::npos, name << " --" << o.name);
  }
  for (const train::ConfigKey& k : train::config_keys())
    CHECK_MESSAGE(by_command["train"].find(k.name + "=") != std::string::npos, k.name);
}
