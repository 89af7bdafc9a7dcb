#include "sluice/registry.hpp"

#include <cctype>

#include <fmt/format.h>

#include "sluice/errors.hpp"
#include "sluice/sink/file_sink.hpp"
#include "sluice/source/file.hpp"
#include "sluice/source/follow.hpp"

namespace sluice {

namespace {

struct sink_entry {
  std::string_view scheme;  // empty: a path or "-"
  std::unique_ptr<sink> (*make)(const std::string& address, const config& cfg);
};

// One line per sink.
const sink_entry sinks[] = {
    {"", [](const std::string& address, const config&) { return make_file_sink(address); }},
};

}  // namespace

std::string_view address_scheme(std::string_view address) {
  const auto at = address.find("://");
  if (at == std::string_view::npos || at == 0) return {};
  const auto scheme = address.substr(0, at);
  // A scheme is letters, digits, '+', '-', '.', starting with a letter (RFC 3986); anything
  // else before "://" is part of a path.
  if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) return {};
  for (char c : scheme)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return {};
  return scheme;
}

std::vector<std::string_view> sink_schemes() {
  std::vector<std::string_view> out;
  for (const auto& e : sinks) out.push_back(e.scheme);
  return out;
}

std::unique_ptr<sink> make_sink(const std::string& address, const config& cfg) {
  const auto scheme = address_scheme(address);
  for (const auto& e : sinks)
    if (e.scheme == scheme) return e.make(address, cfg);
  std::string known;
  for (const auto& e : sinks)
    if (!e.scheme.empty()) known += fmt::format(" {}://", e.scheme);
  throw usage_error(fmt::format("-o {}: no output takes {}:// addresses (outputs: -, a path{})", address, scheme,
                                known.empty() ? "" : "," + known));
}

std::unique_ptr<source> make_source(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints) {
  if (cfg.follow) return std::make_unique<follow_source>(cfg, stats, checkpoints);
  return std::make_unique<file_source>(cfg, stats, checkpoints);
}

}  // namespace sluice
