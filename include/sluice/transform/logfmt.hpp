// --format logfmt (DESIGN.md §3): one event as one line of `key=value` pairs separated
// by single spaces, in input order.
// - Nested objects are flattened with dotted keys (`req.method=GET`); an empty object
//   emits nothing. (`{"a.b":1}` and `{"a":{"b":1}}` both give `a.b=1`: logfmt has no
//   nesting to tell them apart.)
// - Strings are written decoded, unquoted unless they are empty or hold a space, `=`,
//   `"` or a control character; then they are quoted, with `\"`, `\\`, `\n`, `\r`,
//   `\t` and `\u00XX` escapes, so an event never spans two lines. A backslash alone
//   does not force quotes (as go-logfmt): unquoted values are read literally.
//   UTF-8 is written as it is.
// - Numbers and booleans as their JSON text, `null` as an empty value (`key=`), arrays
//   as their JSON text, always quoted (`tags="[\"a\",\"b\"]"`).
// - A key that would need quotes as a value (empty, or holding a space, `=`, `"` or a
//   control character) is quoted the same way (`"my key"=1`), so the line stays
//   unambiguous and nothing is lost; the whole dotted key is quoted as one.
// - An event with no fields left is an empty line.
// Writing only appends to the caller's string: dotted keys are a chain of stack frames,
// never a built string, so nothing is allocated per event.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace sluice {

// Appends the whole event as logfmt (no trailing newline).
void write_logfmt(simdjson::dom::object event, std::string& out);

// A dotted key, innermost name last: each nested level adds a frame on the stack.
struct logfmt_key {
  std::string_view name;
  const logfmt_key* parent = nullptr;
};

// Appends the pair(s) for one member (several when `value` is an object, none when it is
// an empty one), each preceded by a space unless `out` is still at `line_start` (the
// size `out` had when the event's line began).
void write_logfmt_member(const logfmt_key& key, simdjson::dom::element value, std::string& out,
                         std::size_t line_start);

}  // namespace sluice
