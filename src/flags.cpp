#include "sluice/flags.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "sluice/cli.hpp"
#include "sluice/errors.hpp"

namespace sluice {

std::string flag_spec::key() const {
  if (kind == flag_kind::inputs) return "inputs";
  return name.substr(name.find_first_not_of('-'));
}

const flag_set& all_flags() {
  static const flag_set flags = [] {
    flag_set f;
    add_source_flags(f);
    add_transform_flags(f);
    add_flow_flags(f);
    add_sink_flags(f);
    add_observability_flags(f);
    return f;
  }();
  return flags;
}

double parse_number(const std::string& flag, std::string_view text) {
  double v = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || !std::isfinite(v))
    throw usage_error(fmt::format("{}: expected a number, got '{}'", flag, text));
  return v;
}

std::size_t parse_count(const std::string& flag, const std::string& text, std::size_t max) {
  std::size_t v = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || v == 0)
    throw usage_error(fmt::format("{}: expected a positive integer, got '{}'", flag, text));
  if (v > max) throw usage_error(fmt::format("{}: at most {}, got '{}'", flag, max, text));
  return v;
}

std::size_t bounded_size(const std::string& flag, const std::string& text, std::size_t max) {
  const auto v = parse_size(flag, text);
  if (v > max) throw usage_error(fmt::format("{}: at most {} MiB, got '{}'", flag, max >> 20, text));
  return v;
}

}  // namespace sluice
