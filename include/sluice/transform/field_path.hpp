// A path to a value inside an event, shared by --where, --select and --drop:
//   level   req.method   tags[0]   a["odd.key"]   ["top.level key"].b
// A name is letters, digits, '_', '-', '@', '$' (and any byte >= 0x80); anything else is
// written as a bracketed JSON string. Paths are parsed once at start-up; looking one up
// in a parsed event allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace sluice {

struct path_step {
  std::string key;          // object member (when index < 0)
  std::int64_t index = -1;  // array element (when >= 0)
  bool is_index() const { return index >= 0; }
};

struct field_path {
  std::vector<path_step> steps;
  std::string text;  // as written, for messages
};

// Where and why a path (or an expression) did not parse; column is 1-based.
struct syntax_error {
  std::size_t column = 0;
  std::string message;
};

// Parses a path starting at text[pos]; on success advances pos past it. On failure
// returns false and fills err (pos is left where the problem is).
bool parse_field_path(std::string_view text, std::size_t& pos, field_path& out, syntax_error& err);

// Parses a whole string as one path (for --select/--drop items).
bool parse_field_path(std::string_view text, field_path& out, syntax_error& err);

// Splits a --select/--drop list at commas outside brackets and quotes.
bool parse_field_list(std::string_view text, std::vector<field_path>& out, syntax_error& err);

// The value at `path` in `root`, or NO_SUCH_FIELD / INDEX_OUT_OF_BOUNDS / INCORRECT_TYPE
// when it is missing. Duplicate keys: the first wins (simdjson's rule).
simdjson::simdjson_result<simdjson::dom::element> lookup(simdjson::dom::element root, const field_path& path);

}  // namespace sluice
