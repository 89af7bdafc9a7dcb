// --format logfmt (logfmt.hpp, DESIGN.md §3): exact text for each kind of value, keys
// that need quotes, flattening, and every sample event on one line that reads back to
// its fields.
#include "sluice/transform/logfmt.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "sluice/transform/reshape.hpp"
#include "support/json_text.hpp"

namespace {

using sluice::field_selection;
using sluice::testing::parse_object;
using sluice::testing::selection_case;

std::string logfmt(std::string_view input) {
  simdjson::dom::parser parser;
  std::string out;
  sluice::write_logfmt(parse_object(parser, input), out);
  return out;
}

struct logfmt_case {
  const char* name;
  const char* input;
  const char* expected;
};

void PrintTo(const logfmt_case& c, std::ostream* os) { *os << c.name; }

class logfmt_text : public testing::TestWithParam<logfmt_case> {};

TEST_P(logfmt_text, is_exact) {
  EXPECT_EQ(logfmt(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    values, logfmt_text,
    testing::Values(
        logfmt_case{"plain_string", R"({"level":"info","path":"/v1/x"})", "level=info path=/v1/x"},
        logfmt_case{"space", R"({"msg":"hello world"})", R"(msg="hello world")"},
        logfmt_case{"equals", R"({"q":"a=b"})", R"(q="a=b")"},
        logfmt_case{"quote", R"({"q":"say \"hi\""})", R"(q="say \"hi\"")"},
        logfmt_case{"quote_alone", R"({"q":"a\"b"})", R"(q="a\"b")"},
        logfmt_case{"backslash_alone_stays_bare", R"({"p":"C:\\tmp"})", R"(p=C:\tmp)"},
        logfmt_case{"backslash_escaped_inside_quotes", R"({"p":"C:\\my dir"})", R"(p="C:\\my dir")"},
        logfmt_case{"empty_string", R"({"e":""})", R"(e="")"},
        logfmt_case{"null", R"({"u":null,"a":1})", "u= a=1"},
        logfmt_case{"booleans", R"({"t":true,"f":false})", "t=true f=false"},
        logfmt_case{"numbers", R"({"i":42,"n":-7,"f":21.24,"d":1.0,"e":1e100,"s":1e-7,"u":18446744073709551615})",
                    "i=42 n=-7 f=21.24 d=1.0 e=1e+100 s=1e-07 u=18446744073709551615"},
        logfmt_case{"newline", R"({"m":"line1\nline2"})", R"(m="line1\nline2")"},
        logfmt_case{"cr_tab_control", R"({"m":"a\rb\tc\u0001d\u001f"})", R"(m="a\rb\tc\u0001d\u001f")"},
        logfmt_case{"unicode_bare", "{\"m\":\"h\xc3\xa9llo\xe6\x97\xa5\xf0\x9f\x9a\x80\"}",
                    "m=h\xc3\xa9llo\xe6\x97\xa5\xf0\x9f\x9a\x80"},
        logfmt_case{"unicode_escapes_decoded", R"({"m":"\u00e9 \ud83d\ude00"})", "m=\"\xc3\xa9 \xf0\x9f\x98\x80\""},
        logfmt_case{"nested_dotted", R"({"req":{"method":"GET","path":"/x"},"a":1})", "req.method=GET req.path=/x a=1"},
        logfmt_case{"deep", R"({"c":{"client":{"geo":{"country":"FR","id":4}}},"z":0})",
                    "c.client.geo.country=FR c.client.geo.id=4 z=0"},
        logfmt_case{"empty_nested_object_emits_nothing", R"({"a":{},"b":1,"c":{"d":{}}})", "b=1"},
        logfmt_case{"only_empty_objects_is_empty_line", R"({"a":{"b":{}}})", ""},
        logfmt_case{"empty_event_is_empty_line", "{}", ""},
        logfmt_case{"array", R"({"tags":["a","b"]})", R"(tags="[\"a\",\"b\"]")"},
        logfmt_case{"empty_array", R"({"tags":[]})", R"(tags="[]")"},
        logfmt_case{"array_of_scalars", R"({"n":[1,2.5,null,true]})", R"(n="[1,2.5,null,true]")"},
        logfmt_case{"array_of_objects", R"({"n":[{"k":"v w"}]})", R"(n="[{\"k\":\"v w\"}]")"},
        logfmt_case{"array_with_escapes", R"({"n":["a\\b\nc\""]})", R"(n="[\"a\\\\b\\nc\\\"\"]")"},
        logfmt_case{"key_with_space", R"({"my key":1})", R"("my key"=1)"},
        logfmt_case{"key_with_equals", R"({"a=b":1})", R"("a=b"=1)"},
        logfmt_case{"key_with_quote", R"({"k\"q":1})", R"("k\"q"=1)"},
        logfmt_case{"key_with_newline", R"({"k\n":1})", R"("k\n"=1)"},
        logfmt_case{"empty_key", R"({"":1})", R"(""=1)"},
        logfmt_case{"nested_key_quoted_whole", R"({"a":{"b c":{"d":1}}})", R"("a.b c.d"=1)"},
        logfmt_case{"nested_empty_key_is_not_empty", R"({"a":{"":1}})", "a.=1"},
        logfmt_case{"dotted_key_looks_nested", R"({"a.b":1,"a":{"b":2}})", "a.b=1 a.b=2"},
        logfmt_case{"duplicate_keys_as_they_came", R"({"a":1,"a":2})", "a=1 a=2"}),
    [](const testing::TestParamInfo<logfmt_case>& i) { return std::string(i.param.name); });

TEST(write_logfmt, appends_to_what_is_already_there) {
  simdjson::dom::parser parser;
  std::string out = "x=1\n";
  sluice::write_logfmt(parse_object(parser, R"({"a":{},"b":2,"c":3})"), out);
  EXPECT_EQ(out, "x=1\nb=2 c=3");
}

// ---- with --select / --drop ------------------------------------------------------------

class logfmt_selected : public testing::TestWithParam<selection_case> {};

TEST_P(logfmt_selected, is_exact) {
  const selection_case& c = GetParam();
  const field_selection fs = c.select ? field_selection::select(c.list) : field_selection::drop(c.list);
  simdjson::dom::parser parser;
  std::string out = "prefix ";
  fs.write_logfmt(parse_object(parser, c.input), out);
  EXPECT_EQ(out, std::string("prefix ") + c.expected);
}

constexpr const char* event = R"({"level":"info","req":{"method":"GET","path":"/x"},"msg":"a b","t":[1]})";

INSTANTIATE_TEST_SUITE_P(
    fields, logfmt_selected,
    testing::Values(
        selection_case{"select_nested_and_top", true, "req.path,level", event, "level=info req.path=/x"},
        selection_case{"select_object_flattened", true, "req", event, "req.method=GET req.path=/x"},
        selection_case{"select_nothing", true, "nope", event, ""},
        selection_case{"select_array", true, "t,msg", event, R"(msg="a b" t="[1]")"},
        selection_case{"select_duplicate_first_wins", true, "a", R"({"a":1,"b":0,"a":2})", "a=1"},
        selection_case{"select_duplicate_parent_first_wins", true, "r.p", R"({"r":{"m":1},"r":{"p":2}})", ""},
        selection_case{"select_empty_object", true, "a,b", R"({"a":{},"b":1})", "b=1"},
        selection_case{"drop_nested", false, "req.method,msg", event, R"(level=info req.path=/x t="[1]")"},
        selection_case{"drop_emptied_parent_emits_nothing", false, "r.p", R"({"r":{"p":1},"b":2})", "b=2"},
        selection_case{"drop_duplicates_all", false, "a", R"({"a":1,"b":0,"a":2})", "b=0"},
        selection_case{"drop_everything", false, "level,req,msg,t", event, ""}),
    [](const testing::TestParamInfo<selection_case>& i) { return std::string(i.param.name); });

// ---- the samples -----------------------------------------------------------------------

std::vector<std::string> app_events() {
  std::ifstream f(std::string(SLUICE_SAMPLES_DIR) + "/app.ndjson", std::ios::binary);
  EXPECT_TRUE(f.good());
  std::vector<std::string> events;
  simdjson::dom::parser parser;
  for (std::string line; std::getline(f, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    simdjson::dom::object obj;
    if (parser.parse(line).get(obj) == simdjson::SUCCESS) events.push_back(line);
  }
  return events;
}

// A small logfmt reader, written from the format's description rather than from the
// writer, to check that what is written reads back.
bool read_token(std::string_view line, std::size_t& i, char stop, std::string& out) {
  out.clear();
  if (i < line.size() && line[i] == '"') {
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] != '\\') {
        out.push_back(line[i]);
        continue;
      }
      if (++i >= line.size()) return false;
      switch (line[i]) {
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case 'u':
          if (i + 4 >= line.size()) return false;
          out.push_back(static_cast<char>(std::stoi(std::string(line.substr(i + 1, 4)), nullptr, 16)));
          i += 4;
          break;
        default: return false;
      }
    }
    if (i >= line.size()) return false;
    ++i;
    return true;
  }
  while (i < line.size() && line[i] != stop && line[i] != ' ') out.push_back(line[i++]);
  return true;
}

bool read_logfmt(std::string_view line, std::vector<std::pair<std::string, std::string>>& pairs) {
  std::size_t i = 0;
  std::string key, value;
  while (i < line.size()) {
    if (!pairs.empty() && line[i++] != ' ') return false;
    if (!read_token(line, i, '=', key) || i >= line.size() || line[i++] != '=') return false;
    if (!read_token(line, i, ' ', value)) return false;
    pairs.emplace_back(key, value);
  }
  return true;
}

// The pairs an event should give: nested keys dotted, strings decoded, null empty,
// everything else its JSON text.
void expected_pairs(simdjson::dom::object obj, const std::string& prefix,
                    std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto [key, value] : obj) {
    const std::string name = prefix + std::string(key);
    std::string text;
    switch (value.type()) {
      case simdjson::dom::element_type::OBJECT:
        expected_pairs(value, name + ".", out);
        continue;
      case simdjson::dom::element_type::STRING:
        text = std::string_view(value);
        break;
      case simdjson::dom::element_type::NULL_VALUE:
        break;
      default:
        sluice::write_json_value(value, text);
    }
    out.emplace_back(name, text);
  }
}

TEST(write_logfmt, every_app_event_is_one_line_that_reads_back) {
  const auto events = app_events();
  ASSERT_EQ(events.size(), 395u);
  simdjson::dom::parser parser;
  std::string out;
  std::size_t quoted_with_newline = 0;
  for (const std::string& e : events) {
    const simdjson::dom::object obj = parse_object(parser, e);
    out.clear();
    sluice::write_logfmt(obj, out);
    for (const char c : out) ASSERT_GE(static_cast<unsigned char>(c), 0x20) << out;
    if (out.find("\\n") != std::string::npos) ++quoted_with_newline;
    std::vector<std::pair<std::string, std::string>> got, want;
    ASSERT_TRUE(read_logfmt(out, got)) << out;
    expected_pairs(obj, "", want);
    EXPECT_EQ(got, want) << out;
  }
  EXPECT_GT(quoted_with_newline, 0u);  // the sample's "\n" messages were exercised
}

TEST(write_logfmt, every_app_event_selected_or_dropped_is_one_line) {
  const field_selection lists[] = {field_selection::select("msg,req.path,ctx,tags"),
                                   field_selection::drop("ts,ctx.client")};
  const auto events = app_events();
  simdjson::dom::parser parser;
  std::string out;
  for (const auto& fs : lists) {
    for (const std::string& e : events) {
      out.clear();
      fs.write_logfmt(parse_object(parser, e), out);
      EXPECT_EQ(out.find_first_of("\n\r"), std::string::npos) << out;
      std::vector<std::pair<std::string, std::string>> got;
      EXPECT_TRUE(read_logfmt(out, got)) << out;
    }
  }
}

}  // namespace
