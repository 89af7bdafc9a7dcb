#include "sluice/errors.hpp"

namespace sluice {

std::string_view reason_name(line_error e) {
  switch (e) {
    case line_error::none: return "none";
    case line_error::invalid_json: return "invalid_json";
    case line_error::not_an_object: return "not_an_object";
    case line_error::oversize: return "oversize";
  }
  return "unknown";
}

}  // namespace sluice
