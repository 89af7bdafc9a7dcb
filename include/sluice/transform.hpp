// The transform runs inside the parallel stage, on each event the parser accepted
// (DESIGN.md §1): --where decides whether the event is kept, --select/--drop decide which
// of its fields are, and --format writes it into the batch's output buffer, so the serial
// end of the graph only moves bytes. Everything is compiled once at start-up and shared,
// immutable, by the parser threads; applying it allocates nothing per event in the
// common case and never throws.
// With no --select/--drop and json output, an event is written as its original bytes,
// trimmed: sluice never re-encodes what it passes through.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "sluice/config.hpp"
#include "sluice/transform/reshape.hpp"
#include "sluice/transform/where.hpp"

namespace sluice {

class transform {
 public:
  // Throws usage_error for a bad --where, --select or --drop.
  explicit transform(const config& cfg);

  // Appends the event's output line (with '\n') to `out`; returns false when the event
  // is filtered out (nothing appended).
  bool apply(simdjson::dom::element event, std::string_view raw, std::string& out) const;

 private:
  output_format format_;
  std::optional<where_expr> where_;
  field_selection fields_;
};

}  // namespace sluice
