// --where expressions (DESIGN.md §3, where.hpp): what compiles, the exact message and
// column of what does not, and what each expression keeps, over hand-written events
// and over samples/app.ndjson against counts computed by hand over the DOM.
#include "sluice/transform/where.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <new>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "sluice/errors.hpp"
#include "sluice/parse.hpp"

// Counts the allocations a thread makes while `counting_allocations` is set, to prove
// that evaluation allocates nothing. Replacing the global operator new is allowed once
// per program; outside the counted section it only forwards to malloc.
namespace {
thread_local bool counting_allocations = false;
thread_local long allocations = 0;
}  // namespace

// The whole unaligned family, so that no pair mixes this malloc with a sanitizer's new.
// Not inlined: GCC would then see malloc paired with delete and warn.
[[gnu::noinline]] void* operator new(std::size_t size) {
  if (counting_allocations) ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  if (counting_allocations) ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return ::operator new(size, tag); }
void operator delete[](void* p) noexcept { ::operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { ::operator delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { ::operator delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { ::operator delete(p); }

namespace {

using sluice::usage_error;
using sluice::where_expr;

// The usage_error message compile() throws for `text`; fails the test if none is.
std::string compile_error(std::string_view text) {
  try {
    where_expr::compile(text);
  } catch (const usage_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "compiled: " << text;
  return {};
}

// Parses `json` (which must be valid) and evaluates `expr` on it.
bool keeps(std::string_view expr, std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const simdjson::padded_string padded(json);
  EXPECT_EQ(parser.parse(padded).get(doc), simdjson::SUCCESS) << json;
  return where_expr::compile(expr).matches(doc);
}

std::vector<std::string> sample_lines(const char* name) {
  std::ifstream f(std::string(SLUICE_SAMPLES_DIR "/") + name, std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  std::vector<std::string> lines;
  for (std::string line; std::getline(f, line);) lines.push_back(line);
  return lines;
}

// ---- compile: what parses ----------------------------------------------------------

TEST(WhereCompile, AcceptsTheGrammar) {
  const char* valid[] = {
      R"(level == "error")",
      R"(req.status >= 500)",
      R"(tags[0] == "prod")",
      R"(a["odd key"] == 1)",
      R"(a["with \"quotes\""].b != null)",
      R"(["log.level"] == "info")",  // a top-level key that is not a bare name
      R"(["not"] == 1 and ["null"] != null)",  // a reserved word as a key
      R"(not exists(user_id))",
      R"(exists ( a.b[2] ))",
      R"(msg =~ "(?i)timeout")",
      R"(msg !~ "^GET ")",
      R"(((a == 1)))",
      R"(not not a == 1)",
      R"(not(a == 1))",
      R"(-1 < a)",
      R"(a == -1.5e-3)",
      R"(a == 1E+2)",
      R"(a == 0)",
      R"(a == -0.0)",
      R"(a == 18446744073709551615)",
      R"(a == b.c)",
      R"("x" == "x")",
      R"(a==1 and(b<=2)or c>=3)",
      R"(a=="x"and b==true)",
      "\ta ==\n1\r",
      R"(a.not == 1)",      // reserved words are only reserved at the start of a path
      R"(nullable == 1)",   // a name that begins with a reserved word
      R"(order == 1)",
      R"(android == 1)",
      R"(exists == 1)",     // exists is a function only before '('
      R"(@timestamp > "2024")",
      R"($x == -)",         // '-' alone is a name, as field_path defines it
      R"(café == "☕")",
      R"(a == "\u00e9\n\t\"\\\/")",
  };
  for (const char* text : valid) {
    EXPECT_NO_THROW(where_expr::compile(text)) << text;
  }
}

TEST(WhereCompile, KeepsTheText) {
  EXPECT_EQ(where_expr::compile("a == 1").text(), "a == 1");
  EXPECT_EQ(where_expr().text(), "");
}

TEST(WhereCompile, DeepNestingUpToTheLimit) {
  const std::string ok = std::string(256, '(') + "a == 1" + std::string(256, ')');
  EXPECT_NO_THROW(where_expr::compile(ok));
  const std::string deep = std::string(257, '(') + "a == 1" + std::string(257, ')');
  EXPECT_EQ(compile_error(deep), "--where: more than 256 nested parentheses at column 257: " + deep);
}

TEST(WhereCompile, LongChainsAndNotsCostNoRecursion) {
  std::string chain = "a == 0";
  for (int i = 1; i < 20000; ++i) chain += " or a == " + std::to_string(i);
  const auto expr = where_expr::compile(chain);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(std::string_view(R"({"a":19999})")).get(doc), simdjson::SUCCESS);
  EXPECT_TRUE(expr.matches(doc));

  std::string nots;
  for (int i = 0; i < 100001; ++i) nots += "not ";
  EXPECT_FALSE(where_expr::compile(nots + "a == 19999").matches(doc));  // odd: one not
}

// ---- compile: what does not, and where --------------------------------------------

struct error_case {
  std::string text;
  std::string message;  // what follows "--where: "
};

TEST(WhereCompile, RejectsWithMessageAndColumn) {
  const error_case cases[] = {
      {"level == ", "expected a value at column 10: level == "},
      {"", "expected a value at column 1: "},
      {"   ", "expected a value at column 4:    "},
      {"level", "expected a comparison operator (== != < <= > >= =~ !~) at column 6: level"},
      {"level error", "expected a comparison operator (== != < <= > >= =~ !~) at column 7: level error"},
      {"a ! b", "expected a comparison operator (== != < <= > >= =~ !~) at column 3: a ! b"},
      {R"(level = "x")", R"('=' is not an operator; compare with '==' at column 7: level = "x")"},
      {"a == 1 and", "expected a value at column 11: a == 1 and"},
      {"a == 1 or not", "expected a value at column 14: a == 1 or not"},
      {"a == 1 b == 2", "expected 'and', 'or' or the end of the expression at column 8: a == 1 b == 2"},
      {"a == 1 andy", "expected 'and', 'or' or the end of the expression at column 8: a == 1 andy"},
      {"a < b < c", "expected 'and', 'or' or the end of the expression at column 7: a < b < c"},
      {"(a == 1", "expected 'and', 'or' or ')' at column 8: (a == 1"},
      {"(a == 1 b", "expected 'and', 'or' or ')' at column 9: (a == 1 b"},
      {"a == 1)", "unmatched ')' at column 7: a == 1)"},
      {"()", "expected a value at column 2: ()"},
      {"(a) == 1", "expected a comparison operator (== != < <= > >= =~ !~) at column 3: (a) == 1"},
      {R"(a == "x)", R"(unterminated string at column 6: a == "x)"},
      {R"(a == "x\")", R"(unterminated string at column 6: a == "x\")"},
      {R"(a == "\x")", R"(invalid string literal at column 6: a == "\x")"},
      {R"(a == "\ud800")", R"(invalid string literal at column 6: a == "\ud800")"},  // lone surrogate
      {"a == \"\xff\"", "invalid string literal at column 6: a == \"\xff\""},          // not UTF-8
      {"a =~ b", "the right side of =~ must be a string literal at column 6: a =~ b"},
      {"a !~ 1", "the right side of !~ must be a string literal at column 6: a !~ 1"},
      {"a =~", "the right side of =~ must be a string literal at column 5: a =~"},
      {R"(a =~ "(")", R"(invalid regular expression: missing ): ( at column 6: a =~ "(")"},
      {R"(a == 1 and b !~ "x**")",
       R"(invalid regular expression: bad repetition operator: ** at column 17: a == 1 and b !~ "x**")"},
      {R"(a =~ "\\")", R"(invalid regular expression: trailing \ at column 6: a =~ "\\")"},
      // Regression (found by where_parse_fuzz): RE2's message quotes the decoded pattern,
      // and a "\n" in it broke the one-line message.
      {R"(a =~ "(\n")", R"(invalid regular expression: missing ): (  at column 6: a =~ "(\n")"},
      {"a == 01", "invalid number at column 6: a == 01"},
      {"a == 1x", "invalid number at column 6: a == 1x"},
      {"a == 1.", "invalid number at column 6: a == 1."},
      {"a == 1.e5", "invalid number at column 6: a == 1.e5"},
      {"a == 1-2", "invalid number at column 6: a == 1-2"},
      {"a == .5", "expected a value at column 6: a == .5"},
      {"a == +1", "expected a value at column 6: a == +1"},
      {"a == 1e400", "number out of range at column 6: a == 1e400"},
      {"a == 99999999999999999999", "number out of range at column 6: a == 99999999999999999999"},
      {"a. == 1", "expected a field name at column 3: a. == 1"},
      {"a[x] == 1", "expected an array index or a quoted key after '[' at column 3: a[x] == 1"},
      {"a[-1] == 1", "expected an array index or a quoted key after '[' at column 3: a[-1] == 1"},
      {"a[0 == 1", "expected ']' at column 4: a[0 == 1"},
      {"[0] == 1", "a path starts with a field name or a quoted key at column 1: [0] == 1"},
      {"a == [0]", "a path starts with a field name or a quoted key at column 6: a == [0]"},
      {"exists(a", "expected ')' at column 9: exists(a"},
      {"exists()", "expected a field name at column 8: exists()"},
      {"exists(a) == true", "expected 'and', 'or' or the end of the expression at column 11: exists(a) == true"},
      {"a == exists(b)", "exists(...) is a condition, not a value at column 6: a == exists(b)"},
      {"not", "expected a value at column 4: not"},
      {"a == and", "expected a value at column 6: a == and"},
      {"and a == 1", "expected a value at column 1: and a == 1"},
      {"true", "expected a comparison operator (== != < <= > >= =~ !~) at column 5: true"},
      // Columns count characters: "é" and "☕" are one column each.
      {R"(msg == "é" and)", R"(expected a value at column 15: msg == "é" and)"},
      {R"(msg == "☕☕" x)", R"(expected 'and', 'or' or the end of the expression at column 13: msg == "☕☕" x)"},
      // The message stays on one line: control characters show as spaces.
      {"a ==\n", "expected a value at column 6: a == "},
      {"a\t== 1\nb", "expected 'and', 'or' or the end of the expression at column 8: a == 1 b"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(compile_error(c.text), "--where: " + c.message) << c.text;
  }
}

// ---- evaluation --------------------------------------------------------------------

struct eval_case {
  std::string json;
  std::string expr;
  bool kept;
};

void check(const std::vector<eval_case>& cases) {
  for (const auto& c : cases) {
    EXPECT_EQ(keeps(c.expr, c.json), c.kept) << c.expr << "  on  " << c.json;
  }
}

TEST(WhereEval, TypesCompareWithTheirOwnKind) {
  check({
      {R"({"s":"abc"})", R"(s == "abc")", true},
      {R"({"s":"abc"})", R"(s != "abc")", false},
      {R"({"s":"abc"})", R"(s < "abd")", true},
      {R"({"s":"abc"})", R"(s < "ab")", false},
      {R"({"s":"abc"})", R"(s > "ab")", true},
      {R"({"s":"abc"})", R"(s >= "abc")", true},
      {R"({"s":"abc"})", R"(s <= "abc")", true},
      {R"({"s":"abc"})", R"("abd" > s)", true},
      {R"({"s":""})", R"(s == "")", true},
      {R"({"s":""})", R"(s < "a")", true},
      // Bytewise: every multi-byte UTF-8 sequence sorts after ASCII.
      {R"({"s":"é"})", R"(s > "z")", true},
      {R"({"s":"Z"})", R"(s < "a")", true},
      {R"({"b":true})", R"(b == true)", true},
      {R"({"b":true})", R"(b != false)", true},
      {R"({"b":false})", R"(b == false)", true},
      {R"({"b":true})", R"(b > false)", false},  // booleans are not ordered
      {R"({"b":true})", R"(b >= true)", false},
      {R"({"b":true})", R"(b == 1)", false},
      {R"({"b":true})", R"(b == "true")", false},
      {R"({"n":null})", R"(n == null)", true},
      {R"({"n":null})", R"(n != null)", false},
      {R"({"n":null})", R"(n <= null)", false},  // null is not ordered either
      {R"({"n":null})", R"(n >= null)", false},
      {R"({"n":null})", R"(n == false)", false},
      {R"({"n":null})", R"(n == 0)", false},
      {R"({"n":null})", R"(n == "")", false},
      // Different types: == false, != true, ordered false.
      {R"({"n":"1"})", R"(n == 1)", false},
      {R"({"n":"1"})", R"(n != 1)", true},
      {R"({"n":"1"})", R"(n < 2)", false},
      {R"({"n":"1"})", R"(n > 0)", false},
      {R"({"n":1})", R"(n == "1")", false},
      {R"({"n":1})", R"(n < "2")", false},
      {R"({"n":1})", R"(n == true)", false},
      // Arrays and objects are equal to nothing of another type.
      {R"({"o":{}})", R"(o == null)", false},
      {R"({"o":{}})", R"(o != null)", true},
      {R"({"o":{}})", R"(o == "{}")", false},
      {R"({"o":[]})", R"(o == "[]")", false},
      {R"({"o":[1]})", R"(o == 1)", false},
      {R"({"o":[1]})", R"(o > 0)", false},
      // Literals on both sides.
      {R"({})", R"(1 == 1)", true},
      {R"({})", R"("a" < "b")", true},
      {R"({})", R"(null == null)", true},
      {R"({})", R"(true != false)", true},
      {R"({})", R"(1 == 1.0)", true},
  });
}

TEST(WhereEval, MissingFieldsAreNull) {
  check({
      {R"({})", R"(a == null)", true},
      {R"({})", R"(a != "x")", true},
      {R"({})", R"(a != null)", false},
      {R"({})", R"(a == "x")", false},
      {R"({})", R"(a < 1)", false},
      {R"({})", R"(a >= 1)", false},
      {R"({})", R"(a <= null)", false},
      {R"({})", R"(a =~ "x")", false},
      {R"({})", R"(a =~ "")", false},
      {R"({})", R"(a !~ "x")", true},  // exactly not (a =~ "x"), like !=
      {R"({})", R"(exists(a))", false},
      {R"({})", R"(not exists(a))", true},
      {R"({"a":null})", R"(exists(a))", true},  // present null vs missing
      {R"({"a":null})", R"(a == null)", true},
      {R"({"a":1})", R"(a == b)", false},
      {R"({})", R"(a == b)", true},  // both missing: null == null
      // A path through a value of the wrong type is missing too.
      {R"({"a":"str"})", R"(a.b == null)", true},
      {R"({"a":"str"})", R"(exists(a.b))", false},
      {R"({"a":"str"})", R"(a[0] == null)", true},
      {R"({"a":{"0":1}})", R"(a[0] == null)", true},  // an index does not read an object
      {R"({"a":[1]})", R"(a.x == null)", true},
      {R"({"a":{"b":{}}})", R"(a.b.c.d == null)", true},
      {R"({"a":{"b":{}}})", R"(a.b.c.d != 0)", true},
  });
}

TEST(WhereEval, NumbersCompareByExactValue) {
  check({
      {R"({"n":1000})", R"(n == 1e3)", true},
      {R"({"n":1e3})", R"(n == 1000)", true},
      {R"({"n":1000})", R"(n == 1000.0)", true},
      {R"({"n":1000})", R"(n == 1000.5)", false},
      {R"({"n":1000})", R"(n < 1000.5)", true},
      {R"({"n":1000})", R"(n > 999.5)", true},
      {R"({"n":0.5})", R"(n > 0)", true},
      {R"({"n":0.5})", R"(n < 1)", true},
      {R"({"n":0.5})", R"(n == 0)", false},
      {R"({"n":2.5})", R"(n > 2 and n < 3)", true},
      {R"({"n":-2.5})", R"(n < -2 and n > -3)", true},
      {R"({"n":-0.5})", R"(n < 0 and n > -1)", true},
      {R"({"n":-1})", R"(n < 0)", true},
      {R"({"n":-1})", R"(n > -2)", true},
      {R"({"n":-1})", R"(n == -1.0)", true},
      {R"({"n":-0.0})", R"(n == 0)", true},
      {R"({"n":0})", R"(n == -0.0)", true},
      {R"({"n":1.5})", R"(n >= 1.5 and n <= 1.5)", true},
      {R"({"n":21.24})", R"(n > 21.2 and n < 21.25)", true},
      // Above 2^53 a double cannot hold every integer: converting the integer would
      // make 2^53 + 1 equal to 2^53.
      {R"({"n":9007199254740993})", R"(n == 9007199254740992.0)", false},
      {R"({"n":9007199254740993})", R"(n > 9007199254740992.0)", true},
      {R"({"n":9007199254740993})", R"(n == 9007199254740993)", true},
      {R"({"n":9007199254740992.0})", R"(n < 9007199254740993)", true},
      // int64's extremes against doubles: 2^63 - 1 becomes 2^63 as a double.
      {R"({"n":9223372036854775807})", R"(n == 9223372036854775807)", true},
      {R"({"n":9223372036854775807})", R"(n < 9223372036854775808.0)", true},
      {R"({"n":9223372036854775807})", R"(n == 9.223372036854775807e18)", false},
      {R"({"n":9.223372036854775807e18})", R"(n > 9223372036854775807)", true},
      {R"({"n":-9223372036854775808})", R"(n == -9223372036854775808)", true},
      {R"({"n":-9223372036854775808})", R"(n == -9.223372036854775808e18)", true},
      {R"({"n":-9223372036854775808})", R"(n < -9223372036854775807)", true},
      {R"({"n":-9223372036854775808})", R"(n > -1e19)", true},
      {R"({"n":-9223372036854775807})", R"(n > -9.223372036854775808e18)", true},
      // uint64 (above int64): against int64 and doubles.
      {R"({"n":9223372036854775808})", R"(n > 9223372036854775807)", true},
      {R"({"n":9223372036854775808})", R"(n == 9223372036854775808)", true},
      {R"({"n":9223372036854775808})", R"(n == 9.223372036854775808e18)", true},
      {R"({"n":18446744073709551615})", R"(n == 18446744073709551615)", true},
      {R"({"n":18446744073709551615})", R"(n > -1)", true},
      {R"({"n":18446744073709551615})", R"(n != -1)", true},
      {R"({"n":18446744073709551615})", R"(n == 1.8446744073709552e19)", false},  // that double is 2^64
      {R"({"n":18446744073709551615})", R"(n < 1.8446744073709552e19)", true},
      {R"({"n":18446744073709551615})", R"(n > 1.8446744073709550e19)", true},
      {R"({"n":18446744073709551615})", R"(n > -1e300)", true},
      {R"({"n":1.8446744073709552e19})", R"(n > 18446744073709551615)", true},
      {R"({"n":1e300})", R"(n > 18446744073709551615)", true},
      {R"({"n":-1e300})", R"(n < -9223372036854775808)", true},
      {R"({"n":12345678901234567890})", R"(n > 12345678901234567889 and n < 12345678901234567891)", true},
      {R"({"n":-5})", R"(n < 18446744073709551615)", true},
      {R"({"n":5e-324})", R"(n > 0 and n < 1)", true},  // the smallest double
  });
}

TEST(WhereEval, EscapesInLiteralsAndKeys) {
  check({
      {R"({"s":"a\"b"})", R"(s == "a\"b")", true},
      {R"({"s":"a\\b"})", R"(s == "a\\b")", true},
      {R"({"s":"tab\there"})", R"(s == "tab\u0009here")", true},
      {R"({"s":"line\nbreak"})", R"(s == "line\nbreak")", true},
      {R"({"s":"\u00e9"})", R"(s == "é")", true},
      {R"({"s":"é"})", R"(s == "\u00e9")", true},
      {R"({"s":"é"})", R"(s == "\u00E9")", true},
      {R"({"s":"😀"})", R"(s == "\ud83d\ude00")", true},
      {R"({"s":"a/b"})", R"(s == "a\/b")", true},
      {R"({"s":"nul\u0000in"})", R"(s == "nul\u0000in")", true},
      {R"({"s":"nul\u0000in"})", R"(s == "nul")", false},
      {R"({"a":{"odd key":1}})", R"(a["odd key"] == 1)", true},
      {R"({"a":{"dot.key":2}})", R"(a["dot.key"] == 2)", true},
      {R"({"a":{"dot":{"key":3}}})", R"(a["dot.key"] == null)", true},
      {R"({"a":{"quo\"te":3}})", R"(a["quo\"te"] == 3)", true},
      {R"({"a":{"é":4}})", R"(a.é == 4)", true},
      {R"({"a":{"é":4}})", R"(a["\u00e9"] == 4)", true},
      {R"({"a":{"k\u0065y":5}})", R"(a.key == 5)", true},  // keys are compared decoded
      {R"({"a":{"":6}})", R"(a[""] == 6)", true},
      {R"({"log.level":"warn","log":{"level":"info"}})", R"(["log.level"] == "warn")", true},
      {R"({"log.level":"warn","log":{"level":"info"}})", R"(log.level == "info")", true},
      {R"({"odd key":{"x":[1]}})", R"(["odd key"].x[0] == 1)", true},
      {R"({"not":1,"null":2})", R"(["not"] == 1 and ["null"] == 2)", true},
      {R"({"@timestamp":"x","$v":1,"user-id":2})", R"(@timestamp == "x" and $v == 1 and user-id == 2)", true},
  });
}

TEST(WhereEval, NestedPathsArraysAndIndexes) {
  check({
      {R"({"tags":["a","b"]})", R"(tags[0] == "a")", true},
      {R"({"tags":["a","b"]})", R"(tags[1] == "b")", true},
      {R"({"tags":["a","b"]})", R"(tags[2] == null)", true},
      {R"({"tags":["a","b"]})", R"(exists(tags[1]))", true},
      {R"({"tags":["a","b"]})", R"(exists(tags[2]))", false},
      {R"({"tags":[]})", R"(exists(tags[0]))", false},
      {R"({"tags":["a","b"]})", R"(tags == null)", false},
      {R"({"tags":["a","b"]})", R"(tags[0] =~ "^a$")", true},
      {R"({"a":[{"b":[1,2,3]}]})", R"(a[0].b[2] == 3)", true},
      {R"({"a":[{"b":[1,2,3]}]})", R"(a[0].b[3] == null)", true},
      {R"({"a":[[10,20],[30]]})", R"(a[1][0] == 30)", true},
      {R"({"a":{"b":{"c":{"d":{"e":"deep"}}}}})", R"(a.b.c.d.e == "deep")", true},
      {R"({"req":{"status":503}})", R"(req.status >= 500 and req.status < 600)", true},
      // Arrays and objects compared with each other: in order, numbers by value.
      {R"({"a":[1,2],"b":[1,2]})", R"(a == b)", true},
      {R"({"a":[1,2],"b":[1,2.0]})", R"(a == b)", true},
      {R"({"a":[1,2],"b":[2,1]})", R"(a == b)", false},
      {R"({"a":[1,2],"b":[1,2,3]})", R"(a == b)", false},
      {R"({"a":[1,2,3],"b":[1,2]})", R"(a != b)", true},
      {R"({"a":[],"b":[]})", R"(a == b)", true},
      {R"({"a":[],"b":{}})", R"(a == b)", false},
      {R"({"a":{"x":1,"y":[true,null]},"b":{"x":1,"y":[true,null]}})", R"(a == b)", true},
      {R"({"a":{"x":1,"y":2},"b":{"y":2,"x":1}})", R"(a == b)", false},  // key order counts
      {R"({"a":{"x":1},"b":{"x":1,"y":2}})", R"(a == b)", false},
      {R"({"a":{"x":1},"b":{"x":"1"}})", R"(a == b)", false},
      {R"({"a":{"x":1},"b":{"y":1}})", R"(a == b)", false},
      {R"({"a":{"x":1}})", R"(a < a)", false},  // not ordered
      {R"({"a":{"x":1}})", R"(a == a)", true},
  });
}

TEST(WhereEval, UnicodeStrings) {
  check({
      {R"({"msg":"注文が完了しました"})", R"(msg == "注文が完了しました")", true},
      {R"({"msg":"注文が完了しました"})", R"(msg =~ "完了")", true},
      {R"({"msg":"注文が完了しました"})", R"(msg =~ "^.{9}$")", true},  // RE2 counts characters
      {R"({"msg":"envío confirmado para José"})", R"(msg =~ "José$")", true},
      {R"({"msg":"job finished ✅"})", R"(msg =~ "✅")", true},
      {R"({"msg":"job finished ✅"})", R"(msg =~ "\u2705")", true},
      {R"({"msg":"ÉCOLE"})", R"(msg =~ "(?i)école")", true},
      {R"({"msg":"☕"})", R"(msg > "z" and msg < "\uffff")", true},
  });
}

TEST(WhereEval, RegularExpressions) {
  check({
      {R"({"s":"hello world"})", R"(s =~ "world")", true},  // unanchored, like PartialMatch
      {R"({"s":"hello world"})", R"(s =~ "^world")", false},
      {R"({"s":"hello world"})", R"(s =~ "^hello")", true},
      {R"({"s":"hello world"})", R"(s =~ "world$")", true},
      {R"({"s":"hello world"})", R"(s =~ "^hello$")", false},
      {R"({"s":"hello world"})", R"(s =~ "^(foo|hello) ")", true},
      {R"({"s":"hello world"})", R"x(s =~ "^(foo|bar)")x", false},
      {R"({"s":"hello world"})", R"(s =~ "(?i)HELLO")", true},
      {R"({"s":"hello world"})", R"(s =~ "HELLO")", false},
      {R"({"s":"hello world"})", R"(s !~ "xyz")", true},
      {R"({"s":"hello world"})", R"(s !~ "o w")", false},
      {R"({"s":"hello world"})", R"(s =~ "")", true},
      {R"({"s":"a1"})", R"(s =~ "\\d+")", true},
      {R"({"s":"a.b"})", R"(s =~ "^a\\.b$")", true},
      {R"({"s":"axb"})", R"(s =~ "^a\\.b$")", false},
      {R"({"s":"a\nb"})", R"(s =~ "^b")", false},
      {R"({"s":"a\nb"})", R"(s =~ "(?m)^b")", true},
      {R"({"s":"a\nb"})", R"(s =~ "a.b")", false},
      {R"({"s":"a\nb"})", R"(s =~ "(?s)a.b")", true},
      {R"({"s":"nul\u0000in"})", R"(s =~ "l\u0000i")", true},
      {R"({"n":5})", R"(n =~ "5")", false},  // only strings match
      {R"({"n":5})", R"(n !~ "5")", true},
      {R"({"b":true})", R"(b =~ "true")", false},
      {R"({"a":["x"]})", R"(a =~ "x")", false},
      {R"({})", R"("literal" =~ "^lit")", true},
  });
}

TEST(WhereEval, PathologicalPatternRunsInLinearTime) {
  // A backtracking engine takes exponential time on these; RE2 does not backtrack.
  const std::string long_a(100000, 'a');
  check({
      {R"({"s":")" + long_a + R"(!"})", R"(s =~ "(a+)+$")", false},
      {R"({"s":")" + long_a + R"(!"})", R"(s =~ "^(a|aa)*$")", false},
      {R"({"s":")" + long_a + R"(!"})", R"(s =~ "(a*)*b")", false},
      {R"({"s":")" + long_a + R"("})", R"(s =~ "^(a+)+$")", true},
  });
}

TEST(WhereEval, Precedence) {
  const std::string ev = R"({"a":1,"b":2,"c":3})";
  check({
      {ev, "a == 1 or b == 0 and c == 0", true},     // a or (b and c)
      {ev, "(a == 1 or b == 0) and c == 0", false},
      {ev, "a == 0 and b == 2 or c == 3", true},     // (a and b) or c
      {ev, "a == 0 and (b == 2 or c == 3)", false},
      {ev, "not a == 1", false},                     // not (a == 1)
      {ev, "not a == 2", true},
      {ev, "not a == 1 or b == 2", true},            // (not a == 1) or b == 2
      {ev, "not (a == 1 or b == 2)", false},
      {ev, "not a == 2 and b == 0", false},          // (not a == 2) and b == 0
      {ev, "not not a == 1", true},
      {ev, "not not not a == 1", false},
      {ev, "not exists(a) or a == 1", true},
      {ev, "a == 1 and b == 2 and c == 3", true},
      {ev, "a == 1 and b == 2 and c == 4", false},
      {ev, "a == 0 or b == 0 or c == 3", true},
      {ev, "a == 0 or b == 0 or c == 0", false},
  });
}

TEST(WhereEval, DuplicateKeysFirstWins) {
  check({
      {R"({"a":1,"a":2})", "a == 1", true},
      {R"({"a":1,"a":2})", "a == 2", false},
      {R"({"o":{"k":"x","k":"y"}})", R"(o.k == "x")", true},
      {R"({"a":null,"a":1})", "a == null", true},
  });
}

TEST(WhereEval, DefaultKeepsEverything) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(std::string_view("{}")).get(doc), simdjson::SUCCESS);
  EXPECT_TRUE(where_expr().matches(doc));
}

TEST(WhereEval, NonObjectRootHasNoFields) {
  check({
      {"[1,2]", "a == null", true},
      {"[1,2]", "exists(a)", false},
      {"\"str\"", "a != 1", true},
  });
}

// ---- samples/app.ndjson ------------------------------------------------------------

// Hand-written helpers over the DOM, independent of where.cpp and field_path.cpp.
std::string_view str_or_empty(simdjson::dom::element e, const char* key, bool* present = nullptr) {
  std::string_view s;
  simdjson::dom::element v;
  const bool ok = e.get_object().at_key(key).get(v) == simdjson::SUCCESS && v.get_string().get(s) == simdjson::SUCCESS;
  if (present) *present = ok;
  return ok ? s : std::string_view{};
}

TEST(WhereSamples, CountsMatchHandWrittenFilters) {
  struct sample_case {
    std::string expr;
    std::function<bool(simdjson::dom::element)> by_hand;
  };
  const std::vector<sample_case> cases = {
      {R"(level == "error")",
       [](simdjson::dom::element e) { return str_or_empty(e, "level") == "error"; }},
      {R"(req.status >= 500 and service != "api")",
       [](simdjson::dom::element e) {
         bool has_service = false;
         const auto service = str_or_empty(e, "service", &has_service);
         std::int64_t status = 0;
         const bool server_error =
             e["req"]["status"].get_int64().get(status) == simdjson::SUCCESS && status >= 500;
         return server_error && !(has_service && service == "api");
       }},
      {R"(latency_ms > 100 or exists(error))",
       [](simdjson::dom::element e) {
         double latency = 0;
         simdjson::dom::element l, err;
         bool slow = false;
         if (e["latency_ms"].get(l) == simdjson::SUCCESS && l.is_number()) {
           latency = l.get_double().value_unsafe();  // exact here: the samples hold small values
           slow = latency > 100;
         }
         return slow || e["error"].get(err) == simdjson::SUCCESS;
       }},
      {R"(user_id == null)",
       [](simdjson::dom::element e) {
         simdjson::dom::element u;
         return e["user_id"].get(u) != simdjson::SUCCESS || u.is_null();
       }},
      {R"(tags[0] =~ "^(prod|k8s)$" or not ctx.client.geo.country == "FR")",
       [](simdjson::dom::element e) {
         simdjson::dom::array tags;
         bool first_tag = false;
         if (e["tags"].get_array().get(tags) == simdjson::SUCCESS) {
           for (auto t : tags) {
             std::string_view s;
             first_tag = t.get_string().get(s) == simdjson::SUCCESS && (s == "prod" || s == "k8s");
             break;
           }
         }
         std::string_view country;
         const bool fr = e.at_pointer("/ctx/client/geo/country").get_string().get(country) == simdjson::SUCCESS &&
                         country == "FR";
         return first_tag || !fr;
       }},
  };

  const auto lines = sample_lines("app.ndjson");
  ASSERT_EQ(lines.size(), 400u);
  simdjson::dom::parser parser;
  std::vector<where_expr> exprs;
  for (const auto& c : cases) exprs.push_back(where_expr::compile(c.expr));
  std::vector<int> got(cases.size()), want(cases.size());
  int events = 0;
  for (const auto& raw : lines) {
    const std::string_view line = sluice::trim_line(raw);
    if (line.empty()) continue;
    const simdjson::padded_string padded(line);
    simdjson::dom::element doc;
    if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_object()) continue;
    ++events;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      got[i] += exprs[i].matches(doc);
      want[i] += cases[i].by_hand(doc);
    }
  }
  EXPECT_EQ(events, 395);  // samples/README.md
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(got[i], want[i]) << cases[i].expr;
    EXPECT_GT(want[i], 0) << cases[i].expr << " keeps nothing: a weak test";
    EXPECT_LT(want[i], events) << cases[i].expr << " keeps everything: a weak test";
  }
  EXPECT_EQ(got[0], 36);  // samples/README.md: 36 errors
}

TEST(WhereSamples, EvaluationAllocatesNothing) {
  const char* exprs[] = {
      R"(level == "error" or req.status >= 500 and service != "api")",
      R"x(msg =~ "(?i)(timeout|refused|✅)" or msg !~ "^job" and not exists(error))x",
      R"(ctx.client.geo["country"] < "M" and tags[0] != null or latency_ms > 1e2)",
      R"(user_id == null or amount == 18446744073709551615 or job.attempt <= -0.5)",
      R"(req == ctx or tags == tags or ctx.client == ctx.client)",  // structural equality
  };
  std::vector<where_expr> compiled;
  for (const char* e : exprs) compiled.push_back(where_expr::compile(e));
  std::vector<simdjson::padded_string> events;
  for (const auto& raw : sample_lines("app.ndjson")) {
    const std::string_view line = sluice::trim_line(raw);
    if (!line.empty()) events.emplace_back(line);
  }
  simdjson::dom::parser parser;
  long kept = 0;
  // The first pass warms RE2's lazily built DFA; the second must allocate nothing.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& json : events) {
      simdjson::dom::element doc;
      if (parser.parse(json).get(doc) != simdjson::SUCCESS) continue;
      counting_allocations = pass == 1;
      for (const auto& e : compiled) kept += e.matches(doc);
      counting_allocations = false;
    }
  }
  EXPECT_EQ(allocations, 0);
  EXPECT_GT(kept, 0);
}

// One compiled expression, shared by copies on several threads, as the parallel stage
// uses it.
TEST(WhereSamples, CopiesEvaluateConcurrently) {
  const auto lines = sample_lines("app.ndjson");
  const auto expr = where_expr::compile(R"(level =~ "^(warn|error)$" and req.method != "GET")");
  auto count = [&](const where_expr& e) {
    simdjson::dom::parser parser;
    int n = 0;
    for (const auto& raw : lines) {
      const std::string_view line = sluice::trim_line(raw);
      if (line.empty()) continue;
      const simdjson::padded_string padded(line);
      simdjson::dom::element doc;
      if (parser.parse(padded).get(doc) != simdjson::SUCCESS) continue;
      n += e.matches(doc);
    }
    return n;
  };
  const int expected = count(expr);
  EXPECT_GT(expected, 0);
  std::vector<int> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t, copy = expr] {
      for (int round = 0; round < 20; ++round) results[t] = count(copy);
    });
  for (auto& t : threads) t.join();
  for (int r : results) EXPECT_EQ(r, expected);
}

}  // namespace
