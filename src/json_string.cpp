#include "sluice/json_string.hpp"

#include <cstdint>

namespace sluice {

namespace {

// For each byte: 0 when it goes out as it is, else the letter after the backslash
// ('u' for \u00XX).
constexpr std::array<char, 256> json_escapes = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

constexpr char hex[] = "0123456789abcdef";

void append_escape(char e, unsigned char c, std::string& out) {
  out.push_back('\\');
  out.push_back(e);
  if (e == 'u') {
    out.append("00");
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 0xf]);
  }
}

// Length of the valid UTF-8 sequence at p (at most `left` bytes), 0 if there is none:
// checks length, continuation bytes, overlongs, surrogates and range.
std::size_t utf8_sequence(const unsigned char* p, std::size_t left) {
  const unsigned char c = *p;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
  if (n == 0 || left < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  static constexpr std::uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

void append_escaped(std::string_view s, const std::array<char, 256>& escapes, std::string& out) {
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const char e = escapes[c];
    if (e == 0) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    append_escape(e, c, out);
  }
  out.append(s.data() + run, s.size() - run);
}

void append_json_string(std::string& out, std::string_view s, utf8_text text) {
  if (text == utf8_text::trusted) {
    append_escaped(s, json_escapes, out);
    return;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      const char e = json_escapes[c];
      if (e != 0) {
        out.append(s.data() + run, i - run);
        append_escape(e, c, out);
        run = i + 1;
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence(p + i, s.size() - i);
    if (n != 0) {
      i += n;
      continue;
    }
    out.append(s.data() + run, i - run);
    out += "\\ufffd";
    run = ++i;
  }
  out.append(s.data() + run, s.size() - run);
}

void write_json_string(std::string_view s, std::string& out) {
  out.push_back('"');
  append_json_string(out, s, utf8_text::trusted);
  out.push_back('"');
}

}  // namespace sluice
