// The transform runs inside the parallel stage, on each event the parser accepted:
// it decides whether the event is kept (--where, a later issue) and writes its output
// form (--select/--drop and --format, later issues) into the batch's output buffer.
// With no transform configured an event is written as its original bytes, trimmed,
// one per line (DESIGN.md §1), which is why `raw` is passed alongside the parsed view.
#pragma once

#include <string>
#include <string_view>

#include <simdjson.h>

#include "sluice/config.hpp"

namespace sluice {

class transform {
 public:
  explicit transform(const config& cfg);

  // Appends the event's output line (with '\n') to `out`; returns false when the event
  // is filtered out (nothing appended).
  bool apply(simdjson::dom::element event, std::string_view raw, std::string& out) const;

 private:
  output_format format_;
};

}  // namespace sluice
