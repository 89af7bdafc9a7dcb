// --config FILE: the flags as a TOML file (keys are the long flag names without dashes).
// The subset read is what flags need: `key = value` lines, with basic ("...") and literal
// ('...') strings, numbers, true/false and arrays of them, and # comments. Tables are
// refused: there is no key in one. CLI11 2.1.2's own reader cuts a value at '#' even
// inside a string and keeps escapes as written, so `where = 'msg =~ "a#b"'` would change
// meaning: this reader keeps the line of every key, for messages.
#pragma once

#include <string>
#include <vector>

namespace sluice {

struct config_entry {
  std::string key;
  std::vector<std::string> values;  // one for a scalar; the elements of an array
  bool array = false;
  int line = 0;  // 1-based, where the key is
};

// Throws usage_error("NAME:LINE: what is wrong") for text that is not this subset.
std::vector<config_entry> parse_config_text(const std::string& text, const std::string& name);
// Reads the file at `path` (usage_error when it cannot be read) and parses it.
std::vector<config_entry> read_config_file(const std::string& path);

}  // namespace sluice
