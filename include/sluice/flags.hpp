// Flags declared once (DESIGN.md §8): each component declares the flags it reads, in a
// file of its own beside it (src/source/flags.cpp, src/transform/flags.cpp,
// src/flow_flags.cpp, src/sink/flags.cpp, src/observability_flags.cpp): name, value
// name, default, help, and the check that turns the text into its config field. cli.cpp
// only assembles them: --help, --config FILE and the README's flag table (checked by
// tests/e2e/flag_table_test.sh) all come from these declarations.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/config.hpp"

namespace sluice {

enum class flag_kind {
  value,     // --rate N or --rate=N; in a config file: rate = "N"
  boolean,   // -F: given or not; in a config file: follow = true
  optional,  // --stats[=V]: the value needs '=' (DESIGN.md §3); in a file: stats = true or "V"
  inputs,    // the positional FILE...: every word that is no flag; in a file: inputs = [..]
};

struct flag_spec {
  std::string name{};        // the long name ("--output"), or "FILE" for the inputs
  std::string short_name{};  // "-o", or empty
  flag_kind kind = flag_kind::value;
  std::string value_name{};    // in --help: "N[/s|/m|/h]", "PATH"; for an optional value "MS" (shown "[=MS]")
  std::string default_text{};  // in --help as [default]; a valid value, or empty (help says it)
  std::string help{};
  std::string group{};                 // the --help section
  std::vector<std::string> choices{};  // a closed set of values, or empty
  // A valid value other than the default (the tests run every flag with it; empty for a
  // boolean).
  std::string example{};
  // Checks the text and sets the config field; throws usage_error naming the flag. Called
  // only for a flag that was given: with its value (value), "" (boolean), the value after
  // '=' or "" (optional), once per input (inputs). Flags are applied in declaration order;
  // checks across flags (--burst needs --rate) are cli.cpp's, after all of them.
  std::function<void(const std::string& text, config& cfg)> apply{};

  // The key in a --config file: the long name without its dashes ("inputs" for FILE).
  std::string key() const;
};

using flag_set = std::vector<flag_spec>;

// Each component's declarations, in the file beside it.
void add_source_flags(flag_set& flags);         // src/source/flags.cpp
void add_transform_flags(flag_set& flags);      // src/transform/flags.cpp
void add_flow_flags(flag_set& flags);           // src/flow_flags.cpp
void add_sink_flags(flag_set& flags);           // src/sink/flags.cpp
void add_observability_flags(flag_set& flags);  // src/observability_flags.cpp

// Every component's flags, in --help order within each group.
const flag_set& all_flags();

// Checked values, for the apply functions. Each throws usage_error naming `flag`.
double parse_number(const std::string& flag, std::string_view text);
// A positive integer, at most `max`.
std::size_t parse_count(const std::string& flag, const std::string& text, std::size_t max = 1'000'000);
// parse_size (cli.hpp), at most `max`.
std::size_t bounded_size(const std::string& flag, const std::string& text, std::size_t max);

// Token counts and buffer sizes: far above any use, low enough that the budget cannot overflow.
constexpr std::size_t max_tokens = 4096;
constexpr std::size_t max_buffer_bytes = std::size_t{1} << 30;
// The shortest --stats and --stall-timeout: anything shorter is a busy loop.
constexpr double min_interval_s = 0.01;

}  // namespace sluice
