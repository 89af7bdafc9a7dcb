#include "sluice/config_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "sluice/errors.hpp"

namespace sluice {

namespace {

class toml_reader {
 public:
  toml_reader(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  std::vector<config_entry> entries() {
    std::vector<config_entry> out;
    while (true) {
      skip_blank_lines();
      if (at_end()) break;
      if (peek() == '[') fail("tables are not supported: every key is a flag name at the top");
      config_entry e;
      e.line = line_;
      e.key = key();
      skip_spaces();
      if (at_end() || peek() != '=') fail(fmt::format("expected '=' after the key '{}'", e.key));
      ++i_;
      skip_spaces();
      if (!at_end() && peek() == '[') {
        e.array = true;
        ++i_;
        while (true) {
          skip_blank_lines();
          if (at_end()) unclosed(e);
          if (peek() == ']') {
            ++i_;
            break;
          }
          e.values.push_back(scalar());
          skip_blank_lines();
          if (at_end()) unclosed(e);
          if (peek() == ',') {
            ++i_;
          } else if (peek() != ']') {
            fail(fmt::format("expected ',' or ']' in the array of '{}'", e.key));
          }
        }
      } else {
        e.values.push_back(scalar());
      }
      end_of_line();
      out.push_back(std::move(e));
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw usage_error(fmt::format("{}:{}: {}", name_, line_, what));
  }
  [[noreturn]] void unclosed(const config_entry& e) {
    line_ = e.line;
    fail(fmt::format("the array of '{}' is not closed with ']'", e.key));
  }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return s_[i_]; }
  void skip_spaces() {
    while (!at_end() && (peek() == ' ' || peek() == '\t')) ++i_;
  }
  void skip_comment() {
    if (!at_end() && peek() == '#')
      while (!at_end() && peek() != '\n') ++i_;
  }
  // Spaces, comments and newlines (inside an array, and between keys).
  void skip_blank_lines() {
    while (true) {
      skip_spaces();
      skip_comment();
      if (at_end()) return;
      if (peek() == '\r' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') ++i_;
      if (peek() != '\n') return;
      ++i_;
      ++line_;
    }
  }
  void end_of_line() {
    skip_spaces();
    skip_comment();
    if (!at_end() && peek() == '\r') ++i_;
    if (!at_end() && peek() != '\n') fail(fmt::format("unexpected '{}' after the value", peek()));
  }
  static bool bare(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  }
  std::string key() {
    if (peek() == '"' || peek() == '\'') return quoted();
    const std::size_t start = i_;
    while (!at_end() && bare(peek())) ++i_;
    if (i_ == start) fail(fmt::format("expected a key, got '{}'", peek()));
    if (!at_end() && peek() == '.') fail("dotted keys are not supported: every key is a flag name");
    return s_.substr(start, i_ - start);
  }
  // A string, or a bare number or boolean taken as its text (flags parse it).
  std::string scalar() {
    if (at_end()) fail("expected a value");
    if (peek() == '"' || peek() == '\'') return quoted();
    const std::size_t start = i_;
    while (!at_end() && (bare(peek()) || peek() == '.' || peek() == '+' || peek() == ':')) ++i_;
    if (i_ == start) fail(fmt::format("expected a value, got '{}'", peek()));
    return s_.substr(start, i_ - start);
  }
  std::string quoted() {
    const char q = s_[i_++];
    if (s_.compare(i_, 2, std::string(2, q)) == 0) fail("multi-line strings are not supported");
    std::string out;
    while (true) {
      if (at_end() || peek() == '\n') fail("a string is not closed on its line");
      const char c = s_[i_++];
      if (c == q) return out;
      if (c != '\\' || q == '\'') {
        out += c;
        continue;
      }
      if (at_end()) fail("a string is not closed on its line");
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'b': out += '\b'; break;
        case 't': out += '\t'; break;
        case 'n': out += '\n'; break;
        case 'f': out += '\f'; break;
        case 'r': out += '\r'; break;
        case 'u':
        case 'U': unicode(e == 'u' ? 4 : 8, out); break;
        default: fail(fmt::format("unknown escape '\\{}' in a string", e));
      }
    }
  }
  void unicode(std::size_t digits, std::string& out) {
    if (i_ + digits > s_.size()) fail("a \\u escape needs hex digits");
    unsigned long cp = 0;
    for (std::size_t k = 0; k < digits; ++k) {
      const char h = s_[i_++];
      int v = -1;
      if (h >= '0' && h <= '9') v = h - '0';
      else if (h >= 'a' && h <= 'f') v = h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') v = h - 'A' + 10;
      if (v < 0) fail("a \\u escape needs hex digits");
      cp = cp * 16 + static_cast<unsigned long>(v);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail("a \\u escape is not a Unicode scalar value");
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  const std::string& s_;
  const std::string& name_;
  std::size_t i_ = 0;
  int line_ = 1;
};

}  // namespace

std::vector<config_entry> parse_config_text(const std::string& text, const std::string& name) {
  return toml_reader(text, name).entries();
}

std::vector<config_entry> read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw usage_error(fmt::format("--config {}: cannot read it: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw usage_error(fmt::format("--config {}: cannot read it", path));
  return parse_config_text(text.str(), path);
}

}  // namespace sluice
