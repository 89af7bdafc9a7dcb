// --where: a filter expression, compiled once at start-up, then evaluated on every event
// in the parallel stage (DESIGN.md §3):
//   level == "error" and req.status >= 500
//   not exists(user_id) or msg =~ "(?i)time(d )?out"
// compile() throws usage_error("--where: <what> at column N: <expr>"), N counting
// characters from 1; a bad regular expression is reported at its literal. matches()
// never fails, never throws and allocates nothing: it looks up only the fields the
// expression reaches (and/or stop early) in the DOM the parse step already built.
//
// Grammar, loosest first:
//   expr       := and_expr ("or" and_expr)*
//   and_expr   := not_expr ("and" not_expr)*
//   not_expr   := "not" not_expr | "(" expr ")" | "exists" "(" path ")" | comparison
//   comparison := value ("==" | "!=" | "<" | "<=" | ">" | ">=") value
//               | value ("=~" | "!~") string-literal
//   value      := path (field_path.hpp) | JSON string | JSON number | true | false | null
// A comparison is a condition, never a value, so `not a == 1` is `not (a == 1)`, as in
// SQL and Python. `and`, `or`, `not`, `true`, `false` and `null` are reserved words at
// the start of a path (`a.not` is fine); `exists` is one only before "(".
//
// Semantics (nothing is an error at run time):
// - A missing field, or a path through a value of the wrong type, is null (jq, Vector):
//   `a == null` and `a != "x"` are true when `a` is missing. exists(a) tells a present
//   null from a missing field. Duplicate keys: the first wins.
// - Numbers compare by exact value whatever their JSON form (int64, uint64, double):
//   1e3 == 1000, and 9007199254740993 != 9007199254740992.0. Strings compare bytewise
//   (UTF-8 code point order). Booleans and null support only == and !=.
// - Values of different types are never equal (`==` false, `!=` true); an ordered
//   comparison with null, a boolean, an array, an object or a value of another type is
//   false. Arrays and objects are == when they hold equal values in the same order
//   (objects: the same keys in the same order), as comparing their minified JSON would
//   say, except that numbers compare by value (1.0 == 1).
// - `x =~ "re"` is RE2 PartialMatch (unanchored; use ^ and $), false unless x is a
//   string. `x !~ "re"` is exactly `not (x =~ "re")`, so it is true for a missing field,
//   as `!=` is. RE2 runs in time linear in the input: no pattern can stall the pipeline.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace sluice {

class where_expr {
 public:
  // Keeps every event: what the pipeline holds when --where is not given.
  where_expr() = default;

  // Throws usage_error with "--where: <message> at column N: <text>".
  static where_expr compile(std::string_view text);

  // True when the event is kept. Safe to call from many threads at once.
  bool matches(simdjson::dom::element event) const noexcept;

  // The expression as given (empty for the default, keep-everything one).
  const std::string& text() const { return text_; }

  struct program;  // the compiled form; defined in where.cpp

 private:
  // Immutable once compiled, so copies of a where_expr (one per worker, say) share it.
  std::shared_ptr<const program> program_;
  std::string text_;
};

}  // namespace sluice
