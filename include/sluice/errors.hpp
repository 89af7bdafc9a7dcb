// Two kinds of failure, kept apart on purpose:
// - per-line problems (invalid JSON, not an object, oversize) are values: counted in
//   stats, dead-lettered, never thrown across the graph;
// - setup problems (flags, files, outputs) are exceptions thrown once at the edges;
//   main turns them into one line on stderr and an exit code.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice {

enum class exit_code : int {
  ok = 0,
  runtime_failure = 1,
  usage = 2,
};

// A wrong command line: exit 2 with a one-line message.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A failure at start-up that is not the user's syntax (an output that cannot be opened).
struct startup_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Why a line did not become an event.
enum class line_error {
  none,
  invalid_json,   // simdjson rejected it (message from simdjson)
  not_an_object,  // valid JSON, but not an object
  oversize,       // longer than --max-line-bytes
};

std::string_view reason_name(line_error e);

}  // namespace sluice
