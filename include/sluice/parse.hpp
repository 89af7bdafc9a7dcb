// The parallel stage: per batch, each line is classified and, if it is an event, handed
// to the transform, which appends its output form to the batch's output buffer.
// A line is an event when simdjson's DOM parser accepts it whole and it is an object
// (DESIGN.md §1). Everything else is invalid: counted and dead-lettered, never fatal.
// Before parsing, a trailing '\r' is dropped and surrounding whitespace trimmed; a line
// left empty is skipped. A line longer than --max-line-bytes is oversize.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "sluice/batch.hpp"
#include "sluice/config.hpp"
#include "sluice/errors.hpp"

namespace sluice {

class transform;

struct line_verdict {
  line_error error = line_error::none;
  simdjson::error_code json_error = simdjson::SUCCESS;
};

// Trims a trailing '\r' and JSON whitespace around the line.
std::string_view trim_line(std::string_view line);

// Classifies one trimmed, non-empty line. The 64 bytes after it must be readable
// (parse_padding); `doc` is the parsed root when the verdict is `none`.
line_verdict classify_line(simdjson::dom::parser& parser, std::string_view line,
                           simdjson::dom::element& doc);

// Appends one dead-letter record: the line itself (raw), or
// {"reason","error","source","offset","length","line"} (json).
void append_dead_letter_record(std::string& dead, dead_letter_format fmt, std::string_view reason,
                               std::string_view error, std::string_view source, std::uint64_t offset,
                               std::uint64_t length, std::string_view line);

// Writes dead-letter records into a batch's dead buffer.
class dead_letter_writer {
 public:
  dead_letter_writer(dead_letter_format fmt, bool enabled) : fmt_(fmt), enabled_(enabled) {}
  void add(std::string& dead, line_verdict why, std::string_view source, std::uint64_t offset,
           std::string_view line, std::uint64_t length) const;

 private:
  dead_letter_format fmt_;
  bool enabled_;
};

// One per worker thread: a simdjson parser grows to the largest line (or batch) it has
// seen, so it is reused rather than rebuilt (DESIGN.md §7), and counted in the memory
// budget. A batch of at least `stream_min_bytes` (and at most --batch-bytes) is first
// parsed as one document stream (cheaper: stage 1 runs once per batch), each document
// checked to be exactly one line; from the first line that is not, lines are parsed one
// by one. Both ways give the same result.
class batch_parser {
 public:
  static constexpr std::size_t default_stream_min_bytes = 16 << 10;

  batch_parser(const config& cfg, const transform& tr, const dead_letter_writer& dl,
               std::size_t stream_min_bytes = default_stream_min_bytes);
  // Fills b.out, b.dead and b.counts from b's lines.
  void parse(batch& b);
  // Lines taken from a document stream so far (the rest were parsed one by one).
  std::uint64_t streamed_lines() const { return streamed_lines_; }

 private:
  const char* parse_as_stream(batch& b);
  void parse_line(batch& b, std::string_view raw, std::uint64_t offset, const char* next);
  void accept(batch& b, simdjson::dom::element doc, std::string_view line, const char* next);

  std::size_t max_line_bytes_;
  std::size_t batch_bytes_;
  std::size_t stream_min_bytes_;
  std::uint64_t streamed_lines_ = 0;
  const transform& transform_;
  const dead_letter_writer& dead_letter_;
  simdjson::dom::parser parser_;
};

}  // namespace sluice
