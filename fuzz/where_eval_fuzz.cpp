// An expression and an event: the bytes up to the first '\n' are compiled as a --where
// expression, the rest parsed as a JSON document; inputs where either is invalid are
// skipped. matches() must not crash, whatever the document holds, and must agree with
// the expression's negation: `not (E)` keeps exactly the events E drops.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "sluice/errors.hpp"
#include "sluice/transform/where.hpp"

namespace {

std::optional<sluice::where_expr> try_compile(std::string_view text) {
  try {
    return sluice::where_expr::compile(text);
  } catch (const sluice::usage_error&) {
    return std::nullopt;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string_view text = input.substr(0, newline);
  const std::string_view json = input.substr(newline + 1);

  const auto expr = try_compile(text);
  if (!expr) return 0;
  static simdjson::dom::parser parser;
  simdjson::dom::element event;
  // parse() copies into a padded buffer, so the fuzzer's exact-size input is safe.
  if (parser.parse(json.data(), json.size()).get(event) != simdjson::SUCCESS) return 0;

  const bool kept = expr->matches(event);
  // One more level of parentheses may pass the nesting limit: then there is no negation.
  if (const auto negated = try_compile("not (" + std::string(text) + ")")) {
    if (negated->matches(event) == kept) __builtin_trap();
  }
  return 0;
}
