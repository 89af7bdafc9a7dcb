// The one JSON string writer: escapes, U+FFFD for bytes that are not valid UTF-8 (when the
// text may be invalid), trusted text copied as it is; what it writes parses back.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include <simdjson.h>

#include "sluice/json_string.hpp"

namespace sluice {
namespace {

std::string body(std::string_view s, utf8_text t = utf8_text::repair) {
  std::string out;
  append_json_string(out, s, t);
  return out;
}

// The text a JSON parser reads back from "<body>".
std::string parsed_back(const std::string& b) {
  simdjson::dom::parser parser;
  std::string_view v;
  const auto err = parser.parse("\"" + b + "\"").get(v);
  EXPECT_EQ(err, simdjson::SUCCESS) << b;
  return std::string(v);
}

TEST(json_string, escapes_quotes_backslashes_and_control_characters) {
  EXPECT_EQ(body("a\"b\\c"), R"(a\"b\\c)");
  EXPECT_EQ(body("\n\r\t\b\f"), R"(\n\r\t\b\f)");
  EXPECT_EQ(body(std::string("\x01\x1f", 2)), R"(\u0001\u001f)");
  EXPECT_EQ(body(std::string("\0", 1)), R"(\u0000)");
  EXPECT_EQ(body("plain text / with slash"), "plain text / with slash");
}

TEST(json_string, valid_utf8_is_kept_and_invalid_bytes_become_replacement_characters) {
  EXPECT_EQ(body("héllo €𝄞"), "héllo €𝄞");
  EXPECT_EQ(body("a\xff" "b"), R"(a\ufffdb)");
  EXPECT_EQ(body("\xc3"), R"(\ufffd)");                // cut short
  EXPECT_EQ(body("\xc0\xaf"), R"(\ufffd\ufffd)");      // overlong
  EXPECT_EQ(body("\xed\xa0\x80"), R"(\ufffd\ufffd\ufffd)");  // a surrogate
  EXPECT_EQ(body("\xf4\x90\x80\x80"), R"(\ufffd\ufffd\ufffd\ufffd)");  // beyond U+10FFFF
}

TEST(json_string, trusted_text_is_only_escaped) {
  EXPECT_EQ(body("é\"\n", utf8_text::trusted), "é\\\"\\n");
  std::string lit;
  write_json_string("k\"ey", lit);
  EXPECT_EQ(lit, R"("k\"ey")");
}

TEST(json_string, whatever_the_bytes_the_result_parses_and_valid_text_reads_back_the_same) {
  std::minstd_rand rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 40, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 256);
    const auto b = body(s);
    const auto back = parsed_back(b);
    // Valid UTF-8 comes back byte for byte; simdjson's own validation decides which is which.
    if (simdjson::validate_utf8(s.data(), s.size())) EXPECT_EQ(back, s);
  }
}

}  // namespace
}  // namespace sluice
