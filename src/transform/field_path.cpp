#include "sluice/transform/field_path.hpp"

#include <charconv>

namespace sluice {

namespace {

bool is_name_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '@' || c == '$' || c >= 0x80;
}

bool fail(syntax_error& err, std::size_t pos, std::string msg) {
  err.column = pos + 1;
  err.message = std::move(msg);
  return false;
}

// A JSON string literal at text[pos] (which is '"'), decoded into out.
bool parse_json_string(std::string_view text, std::size_t& pos, std::string& out, syntax_error& err) {
  const std::size_t start = pos;
  std::size_t i = pos + 1;
  while (i < text.size() && text[i] != '"') {
    if (text[i] == '\\') ++i;
    ++i;
  }
  if (i >= text.size()) return fail(err, start, "unterminated string");
  // Let simdjson decode the escapes exactly as it does for events.
  simdjson::dom::parser parser;
  const std::string literal(text.substr(start, i + 1 - start));
  std::string_view decoded;
  if (parser.parse(literal).get(decoded) != simdjson::SUCCESS) return fail(err, start, "invalid string literal");
  out.assign(decoded);
  pos = i + 1;
  return true;
}

}  // namespace

bool parse_field_path(std::string_view text, std::size_t& pos, field_path& out, syntax_error& err) {
  const std::size_t start = pos;
  out.steps.clear();
  bool first = true;
  for (;;) {
    if (pos < text.size() && text[pos] == '[') {
      // The root is an object: a path may start with a quoted key (["odd.key"]), never
      // an index.
      if (first && (pos + 1 >= text.size() || text[pos + 1] != '"'))
        return fail(err, pos, "a path starts with a field name or a quoted key");
      ++pos;
      path_step step;
      if (pos < text.size() && text[pos] == '"') {
        if (!parse_json_string(text, pos, step.key, err)) return false;
      } else {
        std::int64_t n = -1;
        const auto [p, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), n);
        if (ec == std::errc::result_out_of_range) return fail(err, pos, "array index too large");
        if (ec != std::errc() || n < 0) return fail(err, pos, "expected an array index or a quoted key after '['");
        step.index = n;
        pos = static_cast<std::size_t>(p - text.data());
      }
      if (pos >= text.size() || text[pos] != ']') return fail(err, pos, "expected ']'");
      ++pos;
      out.steps.push_back(std::move(step));
    } else if (first || (pos < text.size() && text[pos] == '.')) {
      if (!first) ++pos;
      const std::size_t name_start = pos;
      while (pos < text.size() && is_name_char(static_cast<unsigned char>(text[pos]))) ++pos;
      if (pos == name_start) return fail(err, pos, "expected a field name");
      out.steps.push_back({std::string(text.substr(name_start, pos - name_start)), -1});
    } else {
      break;
    }
    first = false;
  }
  out.text.assign(text.substr(start, pos - start));
  return true;
}

bool parse_field_path(std::string_view text, field_path& out, syntax_error& err) {
  std::size_t pos = 0;
  if (!parse_field_path(text, pos, out, err)) return false;
  if (pos != text.size()) return fail(err, pos, "unexpected character in a field path");
  return true;
}

bool parse_field_list(std::string_view text, std::vector<field_path>& out, syntax_error& err) {
  out.clear();
  std::size_t pos = 0;
  for (;;) {
    field_path p;
    if (!parse_field_path(text, pos, p, err)) return false;
    out.push_back(std::move(p));
    if (pos == text.size()) return true;
    if (text[pos] != ',') return fail(err, pos, "expected ',' between fields");
    ++pos;
  }
}

simdjson::simdjson_result<simdjson::dom::element> lookup(simdjson::dom::element root, const field_path& path) {
  simdjson::dom::element cur = root;
  for (const auto& step : path.steps) {
    if (step.is_index()) {
      simdjson::dom::array arr;
      if (cur.get_array().get(arr) != simdjson::SUCCESS) return simdjson::INCORRECT_TYPE;
      if (arr.at(static_cast<std::size_t>(step.index)).get(cur) != simdjson::SUCCESS)
        return simdjson::INDEX_OUT_OF_BOUNDS;
    } else {
      simdjson::dom::object obj;
      if (cur.get_object().get(obj) != simdjson::SUCCESS) return simdjson::INCORRECT_TYPE;
      if (obj.at_key(step.key).get(cur) != simdjson::SUCCESS) return simdjson::NO_SUCH_FIELD;
    }
  }
  return cur;
}

}  // namespace sluice
