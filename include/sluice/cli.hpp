// The command line (DESIGN.md §3), parsed in two steps: CLI11 checks the words, then the
// values are validated and turned into a config. Every flag's name, help, default and
// check are declared by its component (sluice/flags.hpp); cli.cpp assembles them into
// --help and CLI11, reads --config FILE, and checks what crosses flags.
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

// Durations: a number with ms, s, m or h; a plain number counts `plain_unit_s` seconds
// (1 for most flags, 0.001 for --poll). Rejects inf, nan and anything outside
// [min_s, max_s] with a usage_error naming the flag.
double parse_duration(const std::string& flag, const std::string& text, double min_s, double max_s,
                      double plain_unit_s = 1);
// "200ms", "5s", "30 days": for messages and --help.
std::string duration_text(double s);

// The longest any duration flag may be: "forever" values are refused, so no wait can
// overflow a clock.
constexpr double max_duration_s = 30 * 86400.0;
constexpr double max_rate_events = 1e9;                        // events per second
constexpr double max_rate_bytes = 1024.0 * 1024 * 1024 * 1024;  // 1 TiB per second

std::string version_text();

}  // namespace sluice
