// --select and --drop (DESIGN.md §3): which fields of an event reach the output.
// A field list is compiled once at start-up into a tree of keys (a trie) that is matched
// while the event's object is walked once, so no path is looked up per event. The
// compiled selection is immutable and shared by every parser thread; writing an event
// only appends to the caller's string (reused across batches), so the common case
// allocates nothing.
//
// Contract:
// - The kept fields stay in input order, whatever the order of the list.
// - A path that is absent (or runs into a value that is not an object) is ignored.
//   --select keeps a parent only when something under it is kept; --drop keeps a parent
//   it emptied (`{"req":{}}`). An event left with nothing is `{}`.
// - Listing `a` and `a.b` is the same as listing `a`.
// - Duplicate keys: --select keeps only the first occurrence (simdjson's "first wins",
//   as --where sees it); --drop removes every occurrence, and the duplicates it does
//   not touch are written as they came.
// - Values are re-serialized from simdjson's DOM, which keeps no original text: strings
//   are re-escaped (UTF-8 bytes as they are; `"`, `\` and control characters escaped),
//   integers exactly, doubles in the shortest form that parses back to the same double
//   and still reads as a double (`1.0`, `-0.0`, `1e+100`).
// - Array index steps (`tags[0]`) are refused at start-up: a usage_error.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace sluice {

// Appends `v` as minified JSON.
void write_json_value(simdjson::dom::element v, std::string& out);

class field_selection {
 public:
  // Keeps every field (a --drop of nothing).
  field_selection() = default;

  // Both throw usage_error ("--select: <why> at column N: <list>").
  static field_selection select(std::string_view list);
  static field_selection drop(std::string_view list);

  // True when every event comes through whole, so the caller may write raw bytes.
  bool keeps_all() const { return !select_ && root_.keys.empty(); }

  // Appends the event's JSON with the selection applied (no trailing newline).
  void write_json(simdjson::dom::object event, std::string& out) const;

  // Appends the event's logfmt line with the selection applied (no trailing newline);
  // the format is logfmt.hpp's.
  void write_logfmt(simdjson::dom::object event, std::string& out) const;

  // One level of the trie. `keys` is sorted so a member's key is found by binary search;
  // `subs[i]` is what lies under `keys[i]`.
  struct node {
    std::vector<std::string> keys;
    std::vector<node> subs;
    bool whole = false;  // the list names this field itself: all of it is selected/dropped
  };

 private:
  static field_selection build(std::string_view list, bool select);

  bool select_ = false;
  node root_;
};

}  // namespace sluice
