// The command line (DESIGN.md §3), parsed in two steps: CLI11 checks the words, then the
// values are validated and turned into a config. Every flag's name, help, default and
// check live together in cli.cpp, and --help is generated from them.
#pragma once

#include <optional>
#include <string>

#include "sluice/config.hpp"

namespace sluice {

// Returns the config, or nullopt when --help or --version was printed (exit 0).
// Throws usage_error with a one-line message for anything wrong.
std::optional<config> parse_command_line(int argc, const char* const* argv);

// Sizes: a number with K, M, G (or KiB, MiB, GiB; powers of 1024). Throws usage_error.
std::size_t parse_size(const std::string& flag, const std::string& text);
// Rates: N, N/s, N/m, N/h (events, or sizes for bytes). Returns per second.
double parse_rate(const std::string& flag, const std::string& text, bool sizes);

std::string version_text();

}  // namespace sluice
