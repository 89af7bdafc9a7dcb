// The one JSON string writer of the project: dead letters, checkpoints, --select/--drop
// output, and (through append_escaped, with its own table) logfmt. Bytes are escaped per
// RFC 8259 from a table, runs of plain bytes copied at once. Text that may not be valid
// UTF-8 (a raw input line, a file name) gets U+FFFD for each byte that does not start a
// valid sequence, so the record is always valid JSON; text simdjson already validated is
// copied as it is.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace sluice {

enum class utf8_text {
  repair,   // may be invalid: invalid bytes become \ufffd
  trusted,  // validated before (a string simdjson parsed): copied as it is
};

// Appends `s` as the body of a JSON string (no quotes).
void append_json_string(std::string& out, std::string_view s, utf8_text text = utf8_text::repair);

// Appends `s` as a JSON string literal, quotes included; `s` is valid UTF-8.
void write_json_string(std::string_view s, std::string& out);

// Appends `s`, writing each byte whose entry in `escapes` is not 0 as a backslash and
// that entry ('u': \u00XX). The JSON and logfmt string writers differ only in the table.
void append_escaped(std::string_view s, const std::array<char, 256>& escapes, std::string& out);

}  // namespace sluice
