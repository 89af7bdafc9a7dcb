// Flags declared once (sluice/flags.hpp): every declaration is complete, its default text
// is the config's default, and --config FILE with a flag gives what the flag gives, for
// every declared flag (the lists below are generated from the declarations, so a new flag
// is tested without being named here).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sluice/cli.hpp"
#include "sluice/config.hpp"
#include "sluice/config_file.hpp"
#include "sluice/errors.hpp"
#include "sluice/flags.hpp"
#include "support/temp_dir.hpp"

namespace {

using sluice::config;
using sluice::flag_kind;
using sluice::flag_spec;
using sluice::usage_error;

config parse_words(const std::vector<std::string>& words) {
  std::vector<const char*> argv{"sluice"};
  for (const auto& w : words) argv.push_back(w.c_str());
  argv.push_back(nullptr);
  const auto cfg = sluice::parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
  EXPECT_TRUE(cfg.has_value());
  return cfg.value_or(config{});
}

// The usage_error's message; fails the test when none is thrown.
std::string refusal(const std::vector<std::string>& words) {
  try {
    parse_words(words);
  } catch (const usage_error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "not one line: " << msg;
    return msg;
  }
  ADD_FAILURE() << "accepted";
  return {};
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The command-line words and the TOML line that say `value` for flag `f`.
std::vector<std::string> words_of(const flag_spec& f, const std::string& value) {
  switch (f.kind) {
    case flag_kind::inputs: return {value};
    case flag_kind::boolean: return {f.name};
    case flag_kind::optional: return {f.name + "=" + value};
    case flag_kind::value: return {f.name, value};
  }
  return {};
}

std::string toml_of(const flag_spec& f, const std::string& value) {
  switch (f.kind) {
    case flag_kind::inputs: return "inputs = [" + toml_string(value) + "]\n";
    case flag_kind::boolean: return f.key() + " = true\n";
    default: return f.key() + " = " + toml_string(value) + "\n";
  }
}

TEST(Flags, EveryDeclarationIsComplete) {
  std::set<std::string> keys;
  for (const auto& f : sluice::all_flags()) {
    SCOPED_TRACE(f.name);
    EXPECT_TRUE(keys.insert(f.key()).second) << "two flags with the key " << f.key();
    EXPECT_FALSE(f.help.empty());
    EXPECT_FALSE(f.group.empty());
    EXPECT_TRUE(static_cast<bool>(f.apply));
    if (f.kind == flag_kind::inputs) continue;
    EXPECT_EQ(f.name.rfind("--", 0), 0u) << "a long name";
    EXPECT_NE(f.key(), "config") << "--config is cli.cpp's";
    if (f.kind != flag_kind::boolean) {
      EXPECT_FALSE(f.value_name.empty());
      EXPECT_FALSE(f.example.empty()) << "the tests run every flag with its example";
      EXPECT_NE(f.example, f.default_text);
    }
  }
  EXPECT_GE(keys.size(), 30u);
}

// The default shown in --help is what sluice does without the flag.
TEST(Flags, DefaultTextIsTheConfigsDefault) {
  int checked = 0;
  for (const auto& f : sluice::all_flags()) {
    if (f.default_text.empty()) continue;
    SCOPED_TRACE(f.name + " " + f.default_text);
    config c;
    f.apply(f.default_text, c);
    EXPECT_TRUE(c == config{});
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

// Each example changes the config, so the comparisons below would see a flag whose value
// from the file went missing.
TEST(Flags, EveryExampleChangesTheConfig) {
  for (const auto& f : sluice::all_flags()) {
    SCOPED_TRACE(f.name);
    config c;
    f.apply(f.example, c);
    EXPECT_FALSE(c == config{});
  }
}

// Every declared flag at once, from the command line and from a file: the same config.
// --select and --drop cannot go together, so each run leaves one of them out.
TEST(ConfigFile, EveryFlagGivesTheSameConfigAsTheCommandLine) {
  sluice::testing::temp_dir dir;
  std::set<std::string> covered;
  for (const std::string left_out : {"--drop", "--select"}) {
    SCOPED_TRACE("without " + left_out);
    std::vector<std::string> words;
    std::string toml = "# every flag but " + left_out + "\n";
    for (const auto& f : sluice::all_flags()) {
      if (f.name == left_out) continue;
      const auto w = words_of(f, f.example);
      words.insert(words.end(), w.begin(), w.end());
      toml += toml_of(f, f.example);
      covered.insert(f.name);
    }
    const config from_cli = parse_words(words);
    const std::string path = dir.file("all.toml", toml);
    const config from_file = parse_words({"--config", path});
    EXPECT_TRUE(from_cli == from_file) << toml;
    EXPECT_FALSE(from_cli == parse_words({}));
    // Field by field, for the message when they differ.
    EXPECT_EQ(from_file.inputs, from_cli.inputs);
    EXPECT_EQ(from_file.where, from_cli.where);
    EXPECT_EQ(from_file.rate, from_cli.rate);
    EXPECT_EQ(from_file.stats_interval_s, from_cli.stats_interval_s);
    EXPECT_EQ(from_file.poll_ms, from_cli.poll_ms);
    EXPECT_EQ(from_file.follow, from_cli.follow);
    EXPECT_EQ(from_file.progress, from_cli.progress);
  }
  EXPECT_EQ(covered.size(), sluice::all_flags().size());
}

// Each flag alone in a file gives what it gives alone on the command line (with the flags
// it needs). A key the file gives and the flag does not apply would show here.
TEST(ConfigFile, EachFlagAloneGivesTheSameConfigAsTheCommandLine) {
  sluice::testing::temp_dir dir;
  // What some flags need to be accepted at all; left out when it is the flag tested.
  const std::vector<std::pair<std::string, std::vector<std::string>>> needed = {
      {"FILE", {"app.log"}},
      {"--follow", {"-F"}},
      {"--checkpoint", {"--checkpoint", "app.ckpt"}},
      {"--rate", {"--rate", "10"}},
      {"--rate-bytes", {"--rate-bytes", "1M"}},
  };
  for (const auto& f : sluice::all_flags()) {
    SCOPED_TRACE(f.name);
    std::vector<std::string> base;
    for (const auto& [name, words] : needed)
      if (name != f.name) base.insert(base.end(), words.begin(), words.end());
    std::vector<std::string> with_flag = base;
    const auto w = words_of(f, f.example);
    with_flag.insert(with_flag.end(), w.begin(), w.end());
    std::vector<std::string> with_file = base;
    const std::string path = dir.file("one.toml", toml_of(f, f.example));
    with_file.insert(with_file.end(), {"--config", path});
    const config from_file = parse_words(with_file);
    EXPECT_TRUE(parse_words(with_flag) == from_file) << toml_of(f, f.example);
    const bool needed_by_others = std::any_of(needed.begin(), needed.end(), [&](const auto& n) { return n.first == f.name; });
    if (!needed_by_others) EXPECT_FALSE(from_file == parse_words(base)) << "the file's " << f.key() << " was not applied";
  }
}

TEST(ConfigFile, TheCommandLineWinsOverTheFile) {
  sluice::testing::temp_dir dir;
  const std::string path = dir.file("s.toml",
                                    "rate = \"100/s\"\n"
                                    "format = \"logfmt\"\n"
                                    "follow = true\n"
                                    "inputs = [\"a.log\", \"b.log\"]\n"
                                    "stats = \"5s\"\n"
                                    "read-ahead = 2\n");
  const config c = parse_words({"--rate", "200", "c.log", "--config", path, "--stats=1s"});
  EXPECT_DOUBLE_EQ(c.rate, 200);
  EXPECT_EQ(c.inputs, std::vector<std::string>{"c.log"});
  EXPECT_DOUBLE_EQ(c.stats_interval_s, 1);
  EXPECT_EQ(c.format, sluice::output_format::logfmt);  // from the file
  EXPECT_TRUE(c.follow);
  EXPECT_EQ(c.read_ahead, 2u);
  const config file_only = parse_words({"--config", path});
  EXPECT_DOUBLE_EQ(file_only.rate, 100);
  EXPECT_EQ(file_only.inputs, (std::vector<std::string>{"a.log", "b.log"}));
  EXPECT_DOUBLE_EQ(file_only.stats_interval_s, 5);
}

TEST(ConfigFile, AnUnknownKeyIsAUsageErrorWithItsLine) {
  sluice::testing::temp_dir dir;
  const std::string path = dir.file("u.toml", "# sluice\nrate = \"5/s\"\n\nfrobnicate = 1\n");
  const std::string msg = refusal({"--config", path});
  EXPECT_EQ(msg.rfind(path + ":4: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("unknown key 'frobnicate'"), std::string::npos) << msg;
  // A flag spelled with its dashes, or a short name, is no key either.
  EXPECT_NE(refusal({"--config", dir.file("d.toml", "--rate = 5\n")}).find(":1: "), std::string::npos);
  EXPECT_NE(refusal({"--config", dir.file("o.toml", "o = \"x\"\n")}).find("unknown key 'o'"), std::string::npos);
  EXPECT_NE(refusal({"--config", dir.file("c.toml", "config = \"x.toml\"\n")}).find("unknown key 'config'"),
            std::string::npos);
}

// A bad value in the file is refused with the flag's own message, and where it is.
TEST(ConfigFile, ABadValueHasTheFlagsMessageAndTheFile) {
  sluice::testing::temp_dir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--rate", "0"},          {"--read-ahead", "0"},        {"--batch-bytes", "12X"},
      {"--on-full", "maybe"},   {"--log-level", "WARN"},      {"--where", "level =="},
      {"--select", "tags[0]"},  {"--drain-timeout", "1e10"},  {"--stats", "0"},
      {"--metrics", "host:x"},  {"--parse-threads", "2000"},  {"--burst", "0"},
  };
  for (const auto& [flag, value] : cases) {
    SCOPED_TRACE(flag + " " + value);
    const flag_spec& f = *std::find_if(sluice::all_flags().begin(), sluice::all_flags().end(),
                                       [&](const flag_spec& s) { return s.name == flag; });
    std::string cli_msg = refusal(words_of(f, value));
    // CLI11's own checks (a value out of a closed set) add a pointer to --help.
    if (const auto see = cli_msg.find(" (see --help)"); see != std::string::npos) cli_msg.resize(see);
    const std::string path = dir.file("bad.toml", "# bad\n" + toml_of(f, value));
    EXPECT_EQ(refusal({"--config", path}), path + ":2: " + cli_msg);
  }
}

TEST(ConfigFile, BooleansArraysAndMistakes) {
  sluice::testing::temp_dir dir;
  EXPECT_FALSE(parse_words({"--config", dir.file("f.toml", "follow = false\nunordered = true\n")}).follow);
  EXPECT_TRUE(parse_words({"--config", dir.file("u.toml", "unordered = true\n")}).unordered);
  EXPECT_TRUE(parse_words({"--config", dir.file("s.toml", "stats = true\n")}).stats);
  EXPECT_FALSE(parse_words({"--config", dir.file("p.toml", "no-progress = true\n")}).progress);
  const std::string bad_bool = refusal({"--config", dir.file("b.toml", "follow = \"yes\"\n")});
  EXPECT_NE(bad_bool.find(":1: --follow: expected true or false"), std::string::npos) << bad_bool;
  const std::string twice = refusal({"--config", dir.file("t.toml", "rate = 1\nrate = 2\n")});
  EXPECT_NE(twice.find(":2: 'rate' is given twice (first on line 1)"), std::string::npos) << twice;
  const std::string array = refusal({"--config", dir.file("a.toml", "rate = [1, 2]\n")});
  EXPECT_NE(array.find(":1: --rate: expected one value"), std::string::npos) << array;
  const std::string table = refusal({"--config", dir.file("tb.toml", "rate = 1\n[sink]\nrate = 2\n")});
  EXPECT_NE(table.find(":2: tables are not supported"), std::string::npos) << table;
  const std::string missing = refusal({"--config", (dir.path() / "none.toml").string()});
  EXPECT_NE(missing.find("cannot read it"), std::string::npos) << missing;
  // Inputs over several lines, with comments; a single string is one input.
  EXPECT_EQ(parse_words({"--config", dir.file("i.toml", "inputs = [\n  \"a.log\", # first\n  'b.log',\n]\n")}).inputs,
            (std::vector<std::string>{"a.log", "b.log"}));
  EXPECT_EQ(parse_words({"--config", dir.file("j.toml", "inputs = \"a.log\"\n")}).inputs,
            std::vector<std::string>{"a.log"});
}

// CLI11 2.1.2's reader cut values at '#' even inside strings and kept escapes as written:
// a --where with either changed meaning. The file's strings are TOML's.
TEST(ConfigFile, StringsAreTomlStrings) {
  const auto entries = sluice::parse_config_text(
      "where = 'msg =~ \"a#b\"' # a comment\n"
      "select = \"a\\\"b\\\\c,\\u00e9\"\n"
      "\"drain-timeout\" = 1.5\n"
      "  rate=\"5000/s\"\r\n",
      "x.toml");
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].key, "where");
  EXPECT_EQ(entries[0].values, std::vector<std::string>{"msg =~ \"a#b\""});
  EXPECT_EQ(entries[1].values, std::vector<std::string>{"a\"b\\c,\xc3\xa9"});
  EXPECT_EQ(entries[2].key, "drain-timeout");
  EXPECT_EQ(entries[2].values, std::vector<std::string>{"1.5"});
  EXPECT_EQ(entries[2].line, 3);
  EXPECT_EQ(entries[3].values, std::vector<std::string>{"5000/s"});
  EXPECT_EQ(entries[3].line, 4);
  for (const char* bad : {"rate = \"open\n", "rate 5\n", "rate = 5 6\n", "a.b = 1\n", "rate = \"\\q\"\n",
                          "inputs = [\"a\"\n", "= 5\n", "rate = 5000/s\n", "rate = \"\"\"x\"\"\"\n"}) {
    SCOPED_TRACE(bad);
    try {
      sluice::parse_config_text(bad, "x.toml");
      ADD_FAILURE() << "accepted";
    } catch (const usage_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("x.toml:1: ", 0), 0u) << e.what();
    }
  }
}

}  // namespace
