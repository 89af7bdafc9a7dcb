#include "sluice/transform.hpp"

namespace sluice {

transform::transform(const config& cfg) : format_(cfg.format) {}

bool transform::apply(simdjson::dom::element /*event*/, std::string_view raw, std::string& out) const {
  // json passthrough: the original bytes are the exact event, with nothing re-encoded.
  out.append(raw);
  out.push_back('\n');
  return true;
}

}  // namespace sluice
