#include "sluice/parse.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "sluice/json_string.hpp"
#include "sluice/transform.hpp"

namespace sluice {

namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::string_view trim_line(std::string_view line) {
  std::size_t b = 0;
  std::size_t e = line.size();
  while (b < e && is_json_space(line[b])) ++b;
  while (e > b && is_json_space(line[e - 1])) --e;
  return line.substr(b, e - b);
}

line_verdict classify_line(simdjson::dom::parser& parser, std::string_view line,
                           simdjson::dom::element& doc) {
  // realloc_if_needed=false: the bytes after the line are readable (parse_padding).
  auto result = parser.parse(line.data(), line.size(), false);
  if (result.error() != simdjson::SUCCESS) return {line_error::invalid_json, result.error()};
  doc = result.value_unsafe();
  if (!doc.is_object()) return {line_error::not_an_object, simdjson::SUCCESS};
  return {};
}

void append_dead_letter_record(std::string& dead, dead_letter_format fmt, std::string_view reason,
                               std::string_view error, std::string_view source, std::uint64_t offset,
                               std::uint64_t length, std::string_view line) {
  if (fmt == dead_letter_format::raw) {
    dead.append(line);
    dead.push_back('\n');
    return;
  }
  dead += R"({"reason":")";
  append_json_string(dead, reason);
  dead += R"(","error":")";
  append_json_string(dead, error);
  dead += R"(","source":")";
  append_json_string(dead, source);
  dead += fmt::format(R"(","offset":{},"length":{},"line":")", offset, length);
  append_json_string(dead, line);
  dead += "\"}\n";
}

void dead_letter_writer::add(std::string& dead, line_verdict why, std::string_view source,
                             std::uint64_t offset, std::string_view line, std::uint64_t length) const {
  if (!enabled_) return;
  std::string_view error;
  switch (why.error) {
    case line_error::invalid_json: error = simdjson::error_message(why.json_error); break;
    case line_error::not_an_object: error = "the line is valid JSON but not an object"; break;
    case line_error::oversize: error = "the line is longer than --max-line-bytes"; break;
    case line_error::none: break;
  }
  append_dead_letter_record(dead, fmt_, reason_name(why.error), error, source, offset, length, line);
}

namespace {

// Cuts the line that starts at p (up to its newline or the end); p moves past it.
// A line's length against --max-line-bytes: a '\r' before its '\n' does not count, so a
// CRLF line is oversize exactly when the same LF line is.
std::size_t line_length(std::string_view raw) {
  return raw.size() - (!raw.empty() && raw.back() == '\r' ? 1 : 0);
}

std::string_view cut_line(const char*& p, const char* end) {
  const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
  const char* line_end = nl ? nl : end;
  const std::string_view raw(p, static_cast<std::size_t>(line_end - p));
  p = nl ? nl + 1 : end;
  return raw;
}

}  // namespace

batch_parser::batch_parser(const config& cfg, const transform& tr, const dead_letter_writer& dl,
                           std::size_t stream_min_bytes)
    : max_line_bytes_(cfg.max_line_bytes),
      batch_bytes_(cfg.batch_bytes),
      stream_min_bytes_(stream_min_bytes),
      transform_(tr),
      dead_letter_(dl) {}

void batch_parser::parse(batch& b) {
  b.out.clear();
  b.dead.clear();
  b.event_ends.clear();
  b.counts = {};

  if (b.kind == batch::content::oversize) {
    b.counts.lines = 1;
    b.counts.oversize = 1;
    dead_letter_.add(b.dead, {line_error::oversize}, b.source_name, b.offset, b.bytes(),
                     b.oversize_length);
    return;
  }
  // Output is at most the input plus a newline for a last line that lacked one.
  if (b.out.capacity() < b.size + 1) b.out.reserve(b.size + 1);
  const char* const end = b.data() + b.size;
  // A batch larger than --batch-bytes holds one long line: nothing to gain there.
  const bool stream = b.size >= stream_min_bytes_ && b.size <= batch_bytes_;
  const char* p = stream ? parse_as_stream(b) : b.data();
  while (p < end) {
    const std::uint64_t offset = b.offset + static_cast<std::uint64_t>(p - b.data());
    const std::string_view raw = cut_line(p, end);
    parse_line(b, raw, offset, p);
  }
}

void batch_parser::parse_line(batch& b, std::string_view raw, std::uint64_t offset, const char* next) {
  const std::string_view line = trim_line(raw);
  if (line.empty()) {
    ++b.counts.empty;
    return;
  }
  ++b.counts.lines;
  if (line_length(raw) > max_line_bytes_) {
    ++b.counts.oversize;
    dead_letter_.add(b.dead, {line_error::oversize}, b.source_name, offset,
                     raw.substr(0, max_line_bytes_), line_length(raw));
    return;
  }
  simdjson::dom::element doc;
  const line_verdict v = classify_line(parser_, line, doc);
  if (v.error != line_error::none) {
    ++b.counts.invalid;
    dead_letter_.add(b.dead, v, b.source_name, offset, raw, raw.size());
    return;
  }
  accept(b, doc, line, next);
}

void batch_parser::accept(batch& b, simdjson::dom::element doc, std::string_view line, const char* next) {
  if (transform_.apply(doc, line, b.out)) {
    ++b.counts.events;
    b.event_ends.push_back(static_cast<std::uint32_t>(next - b.data()));
  } else {
    ++b.counts.filtered;
  }
}

// One simdjson document stream over the whole batch: stage 1 runs once over the buffer
// instead of once per line. The stream splits documents by structure, not by newline, so
// a document is taken only when it is exactly one line: an object that starts at the
// line's first byte and ends at its last. Up to there, stage 1 saw what a per-line parse
// sees (each line before ended outside any string), so the verdicts are the same. At the
// first line that is not such a document (invalid, not an object, too long, or two lines
// read as one), this returns where the per-line parse takes over.
const char* batch_parser::parse_as_stream(batch& b) {
  const char* const begin = b.data();
  const char* const end = begin + b.size;
  // The parser is sized for a whole batch once: sized to each batch, it would be
  // reallocated at every new largest batch (and the heap fragment).
  const std::size_t window = std::max(batch_bytes_, parser_.capacity());
  simdjson::dom::document_stream stream;
  if (parser_.parse_many(begin, b.size, window).get(stream) != simdjson::SUCCESS) {
    return begin;
  }
  auto doc = stream.begin();
  const char* p = begin;
  while (p < end) {
    const char* const line_start = p;
    const std::string_view raw = cut_line(p, end);
    const std::string_view line = trim_line(raw);
    if (line.empty()) {
      ++b.counts.empty;
      continue;
    }
    if (!(doc != stream.end()) || line_length(raw) > max_line_bytes_) return line_start;
    auto parsed = *doc;
    if (parsed.error() != simdjson::SUCCESS) return line_start;
    const simdjson::dom::element root = parsed.value_unsafe();
    if (doc.current_index() != static_cast<std::size_t>(line.data() - begin) || !root.is_object()) {
      return line_start;
    }
    const std::string_view text = doc.source();
    if (text.data() + text.size() != line.data() + line.size()) return line_start;
    ++b.counts.lines;
    ++streamed_lines_;
    accept(b, root, line, p);
    ++doc;
  }
  return end;
}

}  // namespace sluice
