#include "sluice/transform/logfmt.hpp"

#include <array>

#include "sluice/json_string.hpp"
#include "sluice/transform/reshape.hpp"

namespace sluice {

namespace {

// For each byte: 0 when it may stand in an unquoted value; 'q' when it only forces
// quotes; else the letter written after a backslash inside quotes ('u' for \u00XX).
constexpr std::array<char, 256> logfmt_class = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t[' '] = 'q';
  t['='] = 'q';
  t['"'] = '"';
  return t;
}();

bool needs_quotes(std::string_view s) {
  for (const char c : s)
    if (logfmt_class[static_cast<unsigned char>(c)] != 0) return true;
  return false;
}

// The text between the quotes: the escapes of logfmt_class, and a backslash, which does
// not force quotes, escaped once inside them so that `\"` stays unambiguous.
constexpr std::array<char, 256> logfmt_escapes = [] {
  std::array<char, 256> t = logfmt_class;
  for (char& e : t)
    if (e == 'q') e = 0;
  t['\\'] = '\\';
  return t;
}();

void append_value(std::string_view s, std::string& out) {
  if (!s.empty() && !needs_quotes(s)) {
    out.append(s);
    return;
  }
  out.push_back('"');
  append_escaped(s, logfmt_escapes, out);
  out.push_back('"');
}

bool key_needs_quotes(const logfmt_key& key) {
  for (const logfmt_key* k = &key; k != nullptr; k = k->parent)
    if (needs_quotes(k->name)) return true;
  return key.parent == nullptr && key.name.empty();
}

void append_key_parts(const logfmt_key& key, bool quoted, std::string& out) {
  if (key.parent != nullptr) {
    append_key_parts(*key.parent, quoted, out);
    out.push_back('.');
  }
  if (quoted) {
    append_escaped(key.name, logfmt_escapes, out);
  } else {
    out.append(key.name);
  }
}

void append_key(const logfmt_key& key, std::string& out, std::size_t line_start) {
  if (out.size() != line_start) out.push_back(' ');
  const bool quoted = key_needs_quotes(key);
  if (quoted) out.push_back('"');
  append_key_parts(key, quoted, out);
  if (quoted) out.push_back('"');
  out.push_back('=');
}

// Quotes the JSON text at out[from..] in place: JSON text holds no raw control
// characters, so only `"` and `\` need escapes. Growing `out` once and moving bytes
// from the back avoids a scratch string.
void quote_in_place(std::string& out, std::size_t from) {
  std::size_t extra = 0;
  for (std::size_t i = from; i < out.size(); ++i)
    if (out[i] == '"' || out[i] == '\\') ++extra;
  const std::size_t old_size = out.size();
  out.resize(old_size + extra + 2);
  std::size_t w = out.size();
  out[--w] = '"';
  for (std::size_t r = old_size; r-- > from;) {
    const char c = out[r];
    out[--w] = c;
    if (c == '"' || c == '\\') out[--w] = '\\';
  }
  out[--w] = '"';
}

}  // namespace

void write_logfmt_member(const logfmt_key& key, simdjson::dom::element value, std::string& out,
                         std::size_t line_start) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::OBJECT: {
      // A local, not the temporary result: a range-for would not keep it alive.
      const simdjson::dom::object obj = value.get_object().value_unsafe();
      for (const auto [name, inner] : obj) write_logfmt_member(logfmt_key{name, &key}, inner, out, line_start);
      break;
    }
    case element_type::ARRAY: {
      append_key(key, out, line_start);
      const std::size_t from = out.size();
      write_json_value(value, out);
      quote_in_place(out, from);
      break;
    }
    case element_type::STRING:
      append_key(key, out, line_start);
      append_value(value.get_string().value_unsafe(), out);
      break;
    case element_type::NULL_VALUE:
      append_key(key, out, line_start);
      break;
    default:  // numbers and booleans: their JSON text never needs quotes
      append_key(key, out, line_start);
      write_json_value(value, out);
      break;
  }
}

void write_logfmt(simdjson::dom::object event, std::string& out) {
  const std::size_t line_start = out.size();
  for (const auto [name, value] : event) write_logfmt_member(logfmt_key{name, nullptr}, value, out, line_start);
}

}  // namespace sluice
