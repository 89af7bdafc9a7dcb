#include "sluice/transform.hpp"

#include "sluice/errors.hpp"

namespace sluice {

namespace {
field_selection make_selection(const config& cfg) {
  if (!cfg.select.empty() && !cfg.drop.empty()) throw usage_error("--select and --drop cannot be used together");
  if (!cfg.select.empty()) return field_selection::select(cfg.select);
  if (!cfg.drop.empty()) return field_selection::drop(cfg.drop);
  return {};
}
}  // namespace

transform::transform(const config& cfg) : format_(cfg.format), fields_(make_selection(cfg)) {
  if (!cfg.where.empty()) where_ = where_expr::compile(cfg.where);
}

bool transform::apply(simdjson::dom::element event, std::string_view raw, std::string& out) const {
  if (where_ && !where_->matches(event)) return false;
  // A local copy: iterating value_unsafe() of a temporary result would read freed stack.
  const simdjson::dom::object obj = event.get_object().value_unsafe();  // classify_line: an object
  if (format_ == output_format::logfmt) {
    fields_.write_logfmt(obj, out);
  } else if (fields_.keeps_all()) {
    out.append(raw);  // the exact event, nothing re-encoded
  } else {
    fields_.write_json(obj, out);
  }
  out.push_back('\n');
  return true;
}

}  // namespace sluice
