// --select / --drop and the JSON writer (reshape.hpp): what is kept, in what order, and
// that every value written parses back to exactly what was read.
#include "sluice/transform/reshape.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "sluice/errors.hpp"
#include "sluice/transform/field_path.hpp"
#include "support/json_text.hpp"

namespace {

using sluice::field_selection;
using sluice::testing::parse_object;
using sluice::testing::read_file;
using sluice::testing::selection_case;

simdjson::dom::element parse_element(simdjson::dom::parser& parser, std::string_view text) {
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(std::string(text)).get(root), simdjson::SUCCESS) << text;
  return root;
}

std::string to_json(simdjson::dom::element v) {
  std::string out;
  sluice::write_json_value(v, out);
  return out;
}

std::string reshape(const field_selection& fs, std::string_view input) {
  simdjson::dom::parser parser;
  std::string out;
  fs.write_json(parse_object(parser, input), out);
  return out;
}

// The events of a sample file: lines that trim to a JSON object.
std::vector<std::string> sample_events(const std::string& name) {
  std::vector<std::string> events;
  std::istringstream in(read_file(std::string(SLUICE_SAMPLES_DIR) + "/" + name));
  simdjson::dom::parser parser;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") + 1 - first);
    simdjson::dom::object obj;
    if (parser.parse(line).get(obj) == simdjson::SUCCESS) events.push_back(line);
  }
  return events;
}

// ---- select / drop, exact output ------------------------------------------------------

class reshape_json : public testing::TestWithParam<selection_case> {};

TEST_P(reshape_json, writes_expected) {
  const selection_case& c = GetParam();
  const field_selection fs = c.select ? field_selection::select(c.list) : field_selection::drop(c.list);
  EXPECT_EQ(reshape(fs, c.input), c.expected);
}

constexpr const char* event = R"({"ts":"t","level":"info","msg":"hi","n":1})";
constexpr const char* nested = R"({"a":1,"req":{"method":"GET","path":"/x","status":200},"z":true})";

INSTANTIATE_TEST_SUITE_P(
    select, reshape_json,
    testing::Values(
        selection_case{"top_level", true, "level,msg", event, R"({"level":"info","msg":"hi"})"},
        selection_case{"input_order_not_list_order", true, "n,ts", event, R"({"ts":"t","n":1})"},
        selection_case{"nested_path", true, "req.path", nested, R"({"req":{"path":"/x"}})"},
        selection_case{"nested_and_top", true, "z,req.status,a,req.method", nested,
                     R"({"a":1,"req":{"method":"GET","status":200},"z":true})"},
        selection_case{"deep", true, "c.client.geo.country",
                     R"({"c":{"client":{"ip":"1","geo":{"country":"FR","city":4}},"t":"x"}})",
                     R"({"c":{"client":{"geo":{"country":"FR"}}}})"},
        selection_case{"whole_parent_covers_child", true, "req,req.path", nested,
                     R"({"req":{"method":"GET","path":"/x","status":200}})"},
        selection_case{"child_then_whole_parent", true, "req.path,req", nested,
                     R"({"req":{"method":"GET","path":"/x","status":200}})"},
        selection_case{"same_path_twice", true, "a,a", nested, R"({"a":1})"},
        selection_case{"absent_fields_ignored", true, "nope,req.nope,a", nested, R"({"a":1})"},
        selection_case{"nothing_kept_is_empty_object", true, "nope,req.nope", nested, "{}"},
        selection_case{"empty_event", true, "a", "{}", "{}"},
        selection_case{"path_through_a_scalar_is_absent", true, "a.b", R"({"a":5})", "{}"},
        selection_case{"path_through_an_array_is_absent", true, "a.b", R"({"a":[{"b":1}]})", "{}"},
        selection_case{"path_into_empty_object_is_absent", true, "a.b", R"({"a":{}})", "{}"},
        selection_case{"empty_object_value_kept", true, "a", R"({"a":{},"b":1})", R"({"a":{}})"},
        selection_case{"quoted_key_with_dot", true, R"(a["odd.key"])", R"({"a":{"odd.key":1,"odd":{"key":2}}})",
                     R"({"a":{"odd.key":1}})"},
        selection_case{"dotted_path_is_not_a_dotted_key", true, "a.odd.key", R"({"a":{"odd.key":1,"odd":{"key":2}}})",
                     R"({"a":{"odd":{"key":2}}})"},
        selection_case{"quoted_key_with_comma", true, R"(a["x,y"],b)", R"({"a":{"x":1,"x,y":2},"b":3})",
                     R"({"a":{"x,y":2},"b":3})"},
        selection_case{"quoted_key_with_escapes", true, R"(a["q\"\\ \n"])", R"({"a":{"q\"\\ \n":1,"q":2}})",
                     R"({"a":{"q\"\\ \n":1}})"},
        selection_case{"duplicate_key_first_wins", true, "a", R"({"a":1,"b":2,"a":3})", R"({"a":1})"},
        selection_case{"duplicate_key_other_field", true, "b", R"({"a":1,"b":2,"a":3})", R"({"b":2})"},
        selection_case{"duplicate_nested_key_first_wins", true, "r.p", R"({"r":{"p":"/a","p":"/b"}})",
                     R"({"r":{"p":"/a"}})"},
        // lookup("r.p") stops at the first "r", which has no "p": the field is absent.
        selection_case{"duplicate_parent_first_wins", true, "r.p", R"({"r":{"m":1},"r":{"p":"/x"}})", "{}"},
        selection_case{"kept_value_written_whole", true, "r", R"({"r":{"p":1,"p":2},"x":0})",
                     R"({"r":{"p":1,"p":2}})"}),
    [](const testing::TestParamInfo<selection_case>& i) { return std::string(i.param.name); });

INSTANTIATE_TEST_SUITE_P(
    drop, reshape_json,
    testing::Values(
        selection_case{"top_level", false, "ts,n", event, R"({"level":"info","msg":"hi"})"},
        selection_case{"order_kept", false, "msg", event, R"({"ts":"t","level":"info","n":1})"},
        selection_case{"nested_path", false, "req.path", nested,
                     R"({"a":1,"req":{"method":"GET","status":200},"z":true})"},
        selection_case{"whole_parent_covers_child", false, "req.path,req", nested, R"({"a":1,"z":true})"},
        selection_case{"emptied_parent_stays", false, "r.p", R"({"r":{"p":"/x"},"b":1})", R"({"r":{},"b":1})"},
        selection_case{"everything_dropped_is_empty_object", false, "a,b", R"({"a":1,"b":2})", "{}"},
        selection_case{"empty_event", false, "a", "{}", "{}"},
        selection_case{"absent_fields_ignored", false, "nope,a.b.c,req.nope", nested, nested},
        selection_case{"path_through_a_scalar", false, "a.b", R"({"a":5})", R"({"a":5})"},
        selection_case{"path_through_an_array", false, "a.b", R"({"a":[{"b":1}]})", R"({"a":[{"b":1}]})"},
        selection_case{"quoted_key_with_dot", false, R"(a["odd.key"])", R"({"a":{"odd.key":1,"odd":{"key":2}}})",
                     R"({"a":{"odd":{"key":2}}})"},
        selection_case{"duplicate_key_all_dropped", false, "a", R"({"a":1,"b":2,"a":3})", R"({"b":2})"},
        selection_case{"duplicate_parents_each_reshaped", false, "r.p", R"({"r":{"p":1,"m":2},"r":{"p":3}})",
                     R"({"r":{"m":2},"r":{}})"},
        selection_case{"untouched_duplicates_written_as_they_came", false, "b", R"({"a":1,"a":2,"b":3})",
                     R"({"a":1,"a":2})"},
        selection_case{"keys_and_strings_reescaped", false, "x",
                     "{\"k\\n\\u0001\":\"v\\\"\\\\\\/\\u00e9\\b\\f\\r\\t\\u001f\",\"x\":0}",
                     "{\"k\\n\\u0001\":\"v\\\"\\\\/\xc3\xa9\\b\\f\\r\\t\\u001f\"}"}),
    [](const testing::TestParamInfo<selection_case>& i) { return std::string(i.param.name); });

TEST(field_selection, appends_to_what_is_already_there) {
  simdjson::dom::parser parser;
  std::string out = "before\n";
  field_selection::select("b").write_json(parse_object(parser, R"({"a":1,"b":2})"), out);
  EXPECT_EQ(out, "before\n{\"b\":2}");
}

TEST(field_selection, keeps_all_only_when_nothing_is_listed) {
  EXPECT_TRUE(field_selection().keeps_all());
  EXPECT_FALSE(field_selection::select("a").keeps_all());
  EXPECT_FALSE(field_selection::drop("a").keeps_all());
}

TEST(field_selection, default_keeps_every_field) {
  EXPECT_EQ(reshape(field_selection(), nested), nested);
}

TEST(field_selection, shared_by_threads_is_const_and_reusable) {
  // The same object serves every event (and every parser thread): no state carries over.
  const field_selection fs = field_selection::select("a,r.p");
  simdjson::dom::parser parser;
  std::string out;
  fs.write_json(parse_object(parser, R"({"a":1,"a":2,"r":{"p":3}})"), out);
  out.push_back('\n');
  fs.write_json(parse_object(parser, R"({"r":{"p":4},"a":5})"), out);
  EXPECT_EQ(out, "{\"a\":1,\"r\":{\"p\":3}}\n{\"r\":{\"p\":4},\"a\":5}");
}

TEST(field_selection, many_fields_at_one_level) {
  // More than 64 listed keys at one level: duplicates are still tracked.
  std::string list, input = "{", expected = "{";
  for (int i = 0; i < 100; ++i) {
    list += (i ? ",k" : "k") + std::to_string(i);
    input += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    expected += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  }
  input += "\"k99\":-1,\"k0\":-1}";
  expected += "}";
  EXPECT_EQ(reshape(field_selection::select(list), input), expected);
}

// ---- usage errors ----------------------------------------------------------------------

struct error_case {
  const char* name;
  bool select;
  const char* list;
  const char* message;
};

void PrintTo(const error_case& c, std::ostream* os) { *os << c.name; }

class reshape_usage : public testing::TestWithParam<error_case> {};

TEST_P(reshape_usage, is_refused_at_startup) {
  const error_case& c = GetParam();
  try {
    c.select ? field_selection::select(c.list) : field_selection::drop(c.list);
    FAIL() << "accepted: " << c.list;
  } catch (const sluice::usage_error& e) {
    EXPECT_EQ(std::string(e.what()), c.message);
  }
}

INSTANTIATE_TEST_SUITE_P(
    lists, reshape_usage,
    testing::Values(
        error_case{"empty_item", true, "a,,b", "--select: expected a field name at column 3: a,,b"},
        error_case{"unclosed_bracket", true, "a[", "--select: expected an array index or a quoted key after '[' at column 3: a["},
        error_case{"index_step", true, "tags[0]", "--select: array indexes are not supported: tags[0]"},
        error_case{"index_step_inside", false, "a,b.tags[1].x", "--drop: array indexes are not supported: b.tags[1].x"},
        error_case{"empty_list", true, "", "--select: expected a field name at column 1: "},
        error_case{"trailing_comma", false, "a,", "--drop: expected a field name at column 3: a,"},
        error_case{"trailing_dot", true, "a.", "--select: expected a field name at column 3: a."},
        error_case{"space", true, "a b", "--select: expected ',' between fields at column 2: a b"},
        error_case{"unterminated_key", true, R"(a["x)", R"(--select: unterminated string at column 3: a["x)"},
        error_case{"index_first", false, R"([0])", R"(--drop: a path starts with a field name or a quoted key at column 1: [0])"}),
    [](const testing::TestParamInfo<error_case>& i) { return std::string(i.param.name); });

// ---- values parse back exactly ---------------------------------------------------------

struct number_case {
  const char* input;
  const char* written;
};

void PrintTo(const number_case& c, std::ostream* os) { *os << c.input; }

class number_round_trip : public testing::TestWithParam<number_case> {};

TEST_P(number_round_trip, parses_back_to_the_same_value) {
  const number_case& c = GetParam();
  const std::string input = std::string(R"({"x":0,"n":)") + c.input + "}";
  const std::string out = reshape(field_selection::select("n"), input);
  EXPECT_EQ(out, std::string(R"({"n":)") + c.written + "}");

  simdjson::dom::parser p1, p2;
  simdjson::dom::element before = parse_object(p1, input)["n"];
  simdjson::dom::element after;
  ASSERT_EQ(parse_object(p2, out)["n"].get(after), simdjson::SUCCESS) << out;
  ASSERT_EQ(before.type(), after.type()) << out;
  switch (before.type()) {
    case simdjson::dom::element_type::INT64:
      EXPECT_EQ(std::int64_t(before), std::int64_t(after));
      break;
    case simdjson::dom::element_type::UINT64:
      EXPECT_EQ(std::uint64_t(before), std::uint64_t(after));
      break;
    case simdjson::dom::element_type::DOUBLE: {
      const double a = before, b = after;
      EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << a << " vs " << b;
      break;
    }
    default:
      FAIL() << "not a number";
  }
}

INSTANTIATE_TEST_SUITE_P(
    numbers, number_round_trip,
    testing::Values(number_case{"0.1", "0.1"}, number_case{"1e-7", "1e-07"},
                    number_case{"123456789012345678", "123456789012345678"}, number_case{"-0.0", "-0.0"},
                    number_case{"-0", "0"},  // simdjson 3.0.1 reads -0 as the integer 0
                    number_case{"-0.0e-5", "-0.0"}, number_case{"18446744073709551615", "18446744073709551615"},
                    number_case{"-9223372036854775808", "-9223372036854775808"},
                    number_case{"9223372036854775807", "9223372036854775807"},
                    number_case{"1.7976931348623157e308", "1.7976931348623157e+308"},
                    number_case{"5e-324", "5e-324"}, number_case{"2.2250738585072014e-308", "2.2250738585072014e-308"},
                    number_case{"1.0", "1.0"}, number_case{"100.0", "100.0"}, number_case{"1E2", "100.0"},
                    number_case{"1e100", "1e+100"}, number_case{"0.30000000000000004", "0.30000000000000004"},
                    number_case{"123456789012345678.0", "123456789012345680.0"},
                    number_case{"9007199254740993.0", "9007199254740992.0"},
                    number_case{"21.24", "21.24"}, number_case{"-1.5e-10", "-1.5e-10"}, number_case{"0", "0"},
                    number_case{"-7", "-7"}, number_case{"0.000001", "1e-06"}, number_case{"1234567.125", "1234567.125"}));

struct string_case {
  const char* input;  // a JSON string literal
  const char* written;
};

void PrintTo(const string_case& c, std::ostream* os) { *os << c.input; }

class string_round_trip : public testing::TestWithParam<string_case> {};

TEST_P(string_round_trip, decodes_to_the_same_bytes) {
  const string_case& c = GetParam();
  const std::string input = std::string(R"({"s":)") + c.input + "}";
  const std::string out = reshape(field_selection::drop("x"), input);
  EXPECT_EQ(out, std::string(R"({"s":)") + c.written + "}");
  simdjson::dom::parser p1, p2;
  std::string_view before, after;
  ASSERT_EQ(parse_object(p1, input)["s"].get(before), simdjson::SUCCESS);
  ASSERT_EQ(parse_object(p2, out)["s"].get(after), simdjson::SUCCESS) << out;
  EXPECT_EQ(before, after);
}

INSTANTIATE_TEST_SUITE_P(
    strings, string_round_trip,
    testing::Values(string_case{R"("")", R"("")"},
                    string_case{"\"h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80\"",
                                "\"h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80\""},
                    string_case{R"("\u00e9 \ud83d\ude00")", "\"\xc3\xa9 \xf0\x9f\x98\x80\""},
                    string_case{R"("\"q\" \\ \/")", R"("\"q\" \\ /")"},
                    string_case{R"("\n\t\r\b\f")", R"("\n\t\r\b\f")"},
                    string_case{R"("\u0000\u0001\u001f\u007f")", "\"\\u0000\\u0001\\u001f\x7f\""},
                    string_case{R"("\u2028\u2029")", "\"\xe2\x80\xa8\xe2\x80\xa9\""},
                    string_case{"\"BOM \xef\xbb\xbf ok\"", "\"BOM \xef\xbb\xbf ok\""}));

// Every event of the sample files, written whole, parses back to the same JSON text.
TEST(write_json_value, nasty_events_round_trip) {
  const auto events = sample_events("nasty.ndjson");
  ASSERT_EQ(events.size(), 12u);
  simdjson::dom::parser p1, p2;
  for (const std::string& e : events) {
    const std::string once = to_json(parse_element(p1, e));
    const simdjson::dom::element again = parse_element(p2, once);
    EXPECT_EQ(to_json(again), once) << e;
    EXPECT_EQ(simdjson::minify(parse_element(p1, e)), simdjson::minify(again)) << e;
  }
}

// ---- the samples: valid JSON that keeps exactly what was asked -----------------------

using key_path = std::vector<std::string>;

sluice::field_path to_field_path(const key_path& keys) {
  sluice::field_path p;
  for (const auto& k : keys) p.steps.push_back({k, -1});
  return p;
}

// The paths of the values that are not objects (arrays and scalars), and of empty objects.
void leaf_paths(simdjson::dom::object obj, key_path& prefix, std::vector<key_path>& out) {
  if (obj.size() == 0 && !prefix.empty()) out.push_back(prefix);
  for (const auto [key, value] : obj) {
    prefix.emplace_back(key);
    simdjson::dom::object inner;
    if (value.get_object().get(inner) == simdjson::SUCCESS) {
      leaf_paths(inner, prefix, out);
    } else {
      out.push_back(prefix);
    }
    prefix.pop_back();
  }
}

bool starts_with(const key_path& path, const key_path& prefix) {
  return path.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

std::vector<key_path> list_paths(std::string_view list) {
  std::vector<sluice::field_path> parsed;
  sluice::syntax_error err;
  EXPECT_TRUE(sluice::parse_field_list(list, parsed, err));
  std::vector<key_path> paths;
  for (const auto& p : parsed) {
    key_path k;
    for (const auto& s : p.steps) k.push_back(s.key);
    paths.push_back(k);
  }
  return paths;
}

class reshape_samples : public testing::TestWithParam<std::pair<bool, const char*>> {};

TEST_P(reshape_samples, every_event_stays_valid_and_keeps_what_was_asked) {
  const auto [select, list] = GetParam();
  const field_selection fs = select ? field_selection::select(list) : field_selection::drop(list);
  const std::vector<key_path> listed = list_paths(list);
  const auto events = sample_events("app.ndjson");
  ASSERT_EQ(events.size(), 395u);
  simdjson::dom::parser p1, p2;
  std::string out;
  for (const std::string& e : events) {
    const simdjson::dom::element in = parse_element(p1, e);
    out.clear();
    fs.write_json(in.get_object(), out);
    simdjson::dom::element got;
    ASSERT_EQ(p2.parse(out).get(got), simdjson::SUCCESS) << out;
    ASSERT_TRUE(got.is_object()) << out;

    std::vector<key_path> in_leaves, got_leaves;
    key_path prefix;
    leaf_paths(in.get_object(), prefix, in_leaves);
    leaf_paths(got.get_object(), prefix, got_leaves);
    const auto listed_prefix_of = [&](const key_path& leaf) {
      for (const auto& l : listed)
        if (starts_with(leaf, l)) return true;
      return false;
    };
    // What should be there, with the same value.
    for (const key_path& leaf : in_leaves) {
      if (listed_prefix_of(leaf) != select) continue;
      simdjson::dom::element a, b;
      ASSERT_EQ(sluice::lookup(in, to_field_path(leaf)).get(a), simdjson::SUCCESS);
      ASSERT_EQ(sluice::lookup(got, to_field_path(leaf)).get(b), simdjson::SUCCESS) << leaf[0] << " in " << out;
      EXPECT_EQ(to_json(a), to_json(b));
    }
    // And nothing else (a dropped field's emptied parent aside).
    for (const key_path& leaf : got_leaves) {
      if (select) {
        EXPECT_TRUE(listed_prefix_of(leaf)) << leaf[0] << " in " << out;
      } else if (listed_prefix_of(leaf)) {
        ADD_FAILURE() << leaf[0] << " not dropped: " << out;
      }
    }
    // Top-level keys in input order.
    std::vector<std::string_view> in_keys, got_keys;
    for (const auto [k, v] : simdjson::dom::object(in)) in_keys.push_back(k);
    for (const auto [k, v] : simdjson::dom::object(got)) got_keys.push_back(k);
    auto it = in_keys.begin();
    for (const auto k : got_keys) {
      it = std::find(it, in_keys.end(), k);
      ASSERT_NE(it, in_keys.end()) << "out of order: " << out;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    app, reshape_samples,
    testing::Values(std::pair{true, "level,msg"}, std::pair{true, "req.path,ctx.client.geo.country,tags"},
                    std::pair{true, "msg,req,req.status,nope,error"}, std::pair{true, "ctx.client,amount.value,job"},
                    std::pair{false, "msg,req.path"}, std::pair{false, "ctx.client,tags,user_id"},
                    std::pair{false, "ts,level,service,msg,req,latency_ms,user_id,tags,ctx,sampled"},
                    std::pair{false, "nope,req.nope.deeper"}));

}  // namespace
