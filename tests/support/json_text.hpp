// Helpers for tests that work on JSON text: sample files, parsed objects, and the table
// rows shared by the --select/--drop tests of both output formats.
#pragma once

#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <simdjson.h>

namespace sluice::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// `text` parsed by `parser` as an object (valid until the parser's next parse); a test
// failure when it is not one.
inline simdjson::dom::object parse_object(simdjson::dom::parser& parser, std::string_view text) {
  simdjson::dom::object obj;
  const auto err = parser.parse(std::string(text)).get(obj);
  EXPECT_EQ(err, simdjson::SUCCESS) << text;
  return obj;
}

// One row of a --select (select = true) or --drop table: the field list, the event, and
// what the output format writes for it.
struct selection_case {
  const char* name;
  bool select;
  const char* list;
  const char* input;
  const char* expected;
};

inline void PrintTo(const selection_case& c, std::ostream* os) { *os << c.name; }

}  // namespace sluice::testing
