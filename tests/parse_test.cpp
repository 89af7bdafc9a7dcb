// The parse stage: trimming, classifying lines with simdjson's DOM parser, batch
// parsing and dead-letter records (DESIGN.md §1, parse.hpp).
#include "sluice/parse.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "sluice/batch.hpp"
#include "sluice/config.hpp"
#include "sluice/errors.hpp"
#include "sluice/transform.hpp"
#include "support/json_text.hpp"

namespace {

using sluice::batch;
using sluice::batch_parser;
using sluice::config;
using sluice::dead_letter_format;
using sluice::dead_letter_writer;
using sluice::line_error;
using sluice::trim_line;
using sluice::testing::read_file;

// Lines without their '\n' (the last one too, when the text ends with '\n').
std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// A batch holding `text`, as the reader would hand it on.
std::unique_ptr<batch> make_batch(const std::string& text, std::uint64_t offset = 0) {
  auto b = std::make_unique<batch>(std::max<std::size_t>(text.size(), 1));
  std::memcpy(b->data(), text.data(), text.size());
  // What lies after the lines in a real buffer is whatever was read before: not zeros.
  std::memset(b->data() + text.size(), '{', sluice::parse_padding);
  b->size = text.size();
  b->offset = offset;
  b->source = 0;
  return b;
}

sluice::line_verdict classify(simdjson::dom::parser& parser, std::string_view line) {
  const simdjson::padded_string padded(line);  // 64 readable bytes after the line
  simdjson::dom::element doc;
  return sluice::classify_line(parser, std::string_view(padded.data(), padded.size()), doc);
}

// Runs the parse stage over `text` with the given config and dead-letter format.
struct parsed {
  std::string out;
  std::string dead;
  sluice::batch_counts counts;
};

parsed parse_text(const std::string& text, config cfg, dead_letter_format fmt, bool dead_letter = true,
                  std::uint64_t offset = 0) {
  const sluice::transform tr(cfg);
  const dead_letter_writer dl(fmt, dead_letter);
  batch_parser parser(cfg, tr, dl);
  auto b = make_batch(text, offset);
  b->source_name = "app.ndjson";
  parser.parse(*b);
  return {b->out, b->dead, b->counts};
}

// ---- trim_line --------------------------------------------------------------------

TEST(TrimLine, Cases) {
  EXPECT_EQ(trim_line(""), "");
  EXPECT_EQ(trim_line("{}"), "{}");
  EXPECT_EQ(trim_line("{}\r"), "{}");
  EXPECT_EQ(trim_line("  {\"a\":1}  \t"), "{\"a\":1}");
  EXPECT_EQ(trim_line("\t {} \r"), "{}");
  EXPECT_EQ(trim_line("{ \"a\" : 1 }"), "{ \"a\" : 1 }");  // inner whitespace stays
  EXPECT_EQ(trim_line("\r"), "");
  EXPECT_EQ(trim_line(" \t  \r"), "");
  EXPECT_EQ(trim_line("   "), "");
  // Only JSON whitespace is trimmed: vertical tab, form feed and NBSP are not.
  EXPECT_EQ(trim_line("\v{}\f"), "\v{}\f");
  EXPECT_EQ(trim_line("\xC2\xA0{}"), "\xC2\xA0{}");
  // The result is a view into the line.
  const std::string_view s = "  ab  ";
  EXPECT_EQ(trim_line(s).data(), s.data() + 2);
}

// ---- classify_line ----------------------------------------------------------------

TEST(ClassifyLine, NastySamplesMatchExpected) {
  const auto lines = split_lines(read_file(SLUICE_SAMPLES_DIR "/nasty.ndjson"));
  const auto expected = split_lines(read_file(SLUICE_SAMPLES_DIR "/nasty.expected"));
  ASSERT_EQ(lines.size(), 36u);
  ASSERT_EQ(expected.size(), 36u);
  simdjson::dom::parser parser;
  int events = 0, invalid = 0, skipped = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = trim_line(lines[i]);
    std::string got;
    if (line.empty()) {
      got = "skip";
    } else {
      got = classify(parser, line).error == line_error::none ? "event" : "invalid";
    }
    EXPECT_EQ(got, expected[i]) << "nasty.ndjson line " << i + 1;
    events += got == "event";
    invalid += got == "invalid";
    skipped += got == "skip";
  }
  EXPECT_EQ(events, 12);
  EXPECT_EQ(invalid, 21);
  EXPECT_EQ(skipped, 3);
}

TEST(ClassifyLine, NastySamplesGiveTheDocumentedErrors) {
  // samples/README.md's table: line number -> simdjson error (or not an object).
  struct row {
    int line;
    line_error error;
    simdjson::error_code code;
  };
  const row rows[] = {
      {5, line_error::not_an_object, simdjson::SUCCESS},
      {6, line_error::not_an_object, simdjson::SUCCESS},
      {7, line_error::not_an_object, simdjson::SUCCESS},
      {8, line_error::not_an_object, simdjson::SUCCESS},
      {9, line_error::invalid_json, simdjson::TAPE_ERROR},
      {10, line_error::invalid_json, simdjson::TAPE_ERROR},
      {11, line_error::invalid_json, simdjson::TAPE_ERROR},
      {12, line_error::invalid_json, simdjson::UTF8_ERROR},
      {13, line_error::invalid_json, simdjson::UTF8_ERROR},
      {14, line_error::invalid_json, simdjson::STRING_ERROR},
      {15, line_error::invalid_json, simdjson::NUMBER_ERROR},
      {16, line_error::invalid_json, simdjson::NUMBER_ERROR},
      {17, line_error::invalid_json, simdjson::TAPE_ERROR},
      {18, line_error::invalid_json, simdjson::DEPTH_ERROR},
      {27, line_error::invalid_json, simdjson::NUMBER_ERROR},
      {29, line_error::invalid_json, simdjson::NUMBER_ERROR},
      {30, line_error::invalid_json, simdjson::TAPE_ERROR},
      {31, line_error::invalid_json, simdjson::TAPE_ERROR},
      {32, line_error::invalid_json, simdjson::UNESCAPED_CHARS},
      {33, line_error::invalid_json, simdjson::TAPE_ERROR},
      {34, line_error::invalid_json, simdjson::T_ATOM_ERROR},
  };
  const auto lines = split_lines(read_file(SLUICE_SAMPLES_DIR "/nasty.ndjson"));
  ASSERT_EQ(lines.size(), 36u);
  simdjson::dom::parser parser;
  for (const auto& r : rows) {
    const auto v = classify(parser, trim_line(lines[r.line - 1]));
    EXPECT_EQ(v.error, r.error) << "line " << r.line;
    EXPECT_EQ(v.json_error, r.code) << "line " << r.line << ": " << simdjson::error_message(v.json_error);
  }
}

TEST(ClassifyLine, EventGivesTheParsedObject) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(std::string_view("{\"a\":1,\"a\":2,\"s\":\"x\"}"));
  simdjson::dom::element doc;
  const auto v = sluice::classify_line(parser, std::string_view(padded.data(), padded.size()), doc);
  ASSERT_EQ(v.error, line_error::none);
  EXPECT_EQ(v.json_error, simdjson::SUCCESS);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(int64_t(doc["a"]), 1);  // duplicate keys: the first wins
  EXPECT_EQ(std::string_view(doc["s"]), "x");
}

TEST(ClassifyLine, ParserIsReusedAcrossLinesOfGrowingSize) {
  simdjson::dom::parser parser;
  EXPECT_EQ(classify(parser, "{}").error, line_error::none);
  std::string big = "{\"k\":\"" + std::string(100000, 'v') + "\"}";
  EXPECT_EQ(classify(parser, big).error, line_error::none);
  EXPECT_EQ(classify(parser, "[]").error, line_error::not_an_object);
  EXPECT_EQ(classify(parser, "{\"a\":").error, line_error::invalid_json);
}

// ---- batch_parser on samples/app.ndjson ------------------------------------------

class AppSample : public ::testing::Test {
 protected:
  void SetUp() override {
    text = read_file(SLUICE_SAMPLES_DIR "/app.ndjson");
    lines = split_lines(text);
    ASSERT_EQ(lines.size(), 400u);
    ASSERT_EQ(text.back(), '\n');
    std::uint64_t off = 0;
    for (const auto& l : lines) {
      offsets.push_back(off);
      off += l.size() + 1;
    }
  }
  // 1-based line numbers from samples/README.md.
  const std::set<int> malformed{57, 133, 301};
  const std::set<int> blank{190, 245};
  std::string text;
  std::vector<std::string> lines;
  std::vector<std::uint64_t> offsets;
};

TEST_F(AppSample, CountsAndOutput) {
  const auto r = parse_text(text, config{}, dead_letter_format::raw);
  EXPECT_EQ(r.counts.events, 395u);
  EXPECT_EQ(r.counts.invalid, 3u);
  EXPECT_EQ(r.counts.empty, 2u);
  EXPECT_EQ(r.counts.lines, 398u);
  EXPECT_EQ(r.counts.oversize, 0u);
  EXPECT_EQ(r.counts.filtered, 0u);

  // The valid lines, in order, as their original bytes; line 88 loses its '\r'.
  // (No line of app.ndjson has other whitespace around it, see SetUp's file.)
  std::string expected;
  for (int n = 1; n <= 400; ++n) {
    if (malformed.count(n) || blank.count(n)) continue;
    std::string line = lines[n - 1];
    if (n == 88) {
      ASSERT_EQ(line.back(), '\r');
      line.pop_back();
    }
    expected += line + '\n';
  }
  EXPECT_EQ(r.out, expected);
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
}

TEST_F(AppSample, RawDeadLetterHoldsTheMalformedLines) {
  const auto r = parse_text(text, config{}, dead_letter_format::raw);
  EXPECT_EQ(r.dead, lines[56] + "\n" + lines[132] + "\n" + lines[300] + "\n");
}

TEST_F(AppSample, DeadLetterDisabledStillCounts) {
  const auto r = parse_text(text, config{}, dead_letter_format::json, /*dead_letter=*/false);
  EXPECT_EQ(r.dead, "");
  EXPECT_EQ(r.counts.invalid, 3u);
  EXPECT_EQ(r.counts.events, 395u);
}

TEST_F(AppSample, JsonDeadLetterRecords) {
  const std::uint64_t base = 1000;  // the batch starts at this offset in its source
  const auto r = parse_text(text, config{}, dead_letter_format::json, true, base);
  const auto records = split_lines(r.dead);
  ASSERT_EQ(records.size(), 3u);
  ASSERT_EQ(r.dead.back(), '\n');
  const int numbers[] = {57, 133, 301};
  simdjson::dom::parser check;  // to find the error simdjson gives for each line
  simdjson::dom::parser parser;
  for (int i = 0; i < 3; ++i) {
    const int n = numbers[i];
    const std::string& line = lines[n - 1];
    SCOPED_TRACE("line " + std::to_string(n));
    simdjson::dom::element rec;
    ASSERT_EQ(parser.parse(records[i]).get(rec), simdjson::SUCCESS) << records[i];
    ASSERT_TRUE(rec.is_object());
    std::string_view reason, error, source, text_line;
    std::uint64_t offset = 0, length = 0;
    ASSERT_EQ(rec["reason"].get(reason), simdjson::SUCCESS);
    ASSERT_EQ(rec["error"].get(error), simdjson::SUCCESS);
    ASSERT_EQ(rec["source"].get(source), simdjson::SUCCESS);
    ASSERT_EQ(rec["offset"].get(offset), simdjson::SUCCESS);
    ASSERT_EQ(rec["length"].get(length), simdjson::SUCCESS);
    ASSERT_EQ(rec["line"].get(text_line), simdjson::SUCCESS);
    EXPECT_EQ(source, "app.ndjson");
    EXPECT_EQ(offset, base + offsets[n - 1]);
    EXPECT_EQ(length, line.size());
    EXPECT_EQ(text_line, line);
    if (n == 301) {
      EXPECT_EQ(reason, "not_an_object");
      EXPECT_EQ(error, "the line is valid JSON but not an object");
    } else {
      EXPECT_EQ(reason, "invalid_json");
      const simdjson::padded_string padded(line);
      const auto code = check.parse(padded).error();
      ASSERT_NE(code, simdjson::SUCCESS);
      EXPECT_EQ(error, simdjson::error_message(code));
    }
  }
}

// ---- batch_parser details ---------------------------------------------------------

TEST(BatchParser, LastLineWithoutNewlineGetsOne) {
  const auto r = parse_text("{\"a\":1}\n  {\"b\":2} \r", config{}, dead_letter_format::raw);
  EXPECT_EQ(r.counts.events, 2u);
  EXPECT_EQ(r.out, "{\"a\":1}\n{\"b\":2}\n");
}

TEST(BatchParser, EmptyBatch) {
  const auto r = parse_text("", config{}, dead_letter_format::raw);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.dead, "");
  EXPECT_EQ(r.counts.lines, 0u);
  EXPECT_EQ(r.counts.empty, 0u);
}

TEST(BatchParser, WhitespaceLinesAreCountedEmpty) {
  const auto r = parse_text("\n\r\n \t\n{}\n\n", config{}, dead_letter_format::raw);
  EXPECT_EQ(r.counts.empty, 4u);
  EXPECT_EQ(r.counts.lines, 1u);
  EXPECT_EQ(r.counts.events, 1u);
  EXPECT_EQ(r.out, "{}\n");
}

TEST(BatchParser, ReparsingABatchStartsFromZero) {
  config cfg;
  const sluice::transform tr(cfg);
  const dead_letter_writer dl(dead_letter_format::raw, true);
  batch_parser parser(cfg, tr, dl);
  auto b = make_batch("{}\nnope\n");
  parser.parse(*b);
  parser.parse(*b);
  EXPECT_EQ(b->counts.events, 1u);
  EXPECT_EQ(b->counts.invalid, 1u);
  EXPECT_EQ(b->out, "{}\n");
  EXPECT_EQ(b->dead, "nope\n");
}

TEST(BatchParser, InvalidUtf8BecomesReplacementCharInJsonDeadLetter) {
  // Not JSON at all, with bytes that are not UTF-8: ff, fe, an overlong c0 af, a
  // surrogate ed a0 80, and a sequence cut short at the end (e2 82).
  const std::string line = "bad \xFF\xFE x \xC0\xAF y \xED\xA0\x80 z \xC3\xA9 \"q\"\t\\ \x01 \xE2\x82";
  const auto r = parse_text(line + "\n", config{}, dead_letter_format::json, true, 7);
  ASSERT_EQ(r.counts.invalid, 1u);
  // Valid JSON whatever the line held.
  simdjson::dom::parser parser;
  simdjson::dom::element rec;
  const simdjson::padded_string dead(r.dead);
  ASSERT_EQ(parser.parse(dead).get(rec), simdjson::SUCCESS) << r.dead;
  std::string_view got;
  ASSERT_EQ(rec["line"].get(got), simdjson::SUCCESS);
  const std::string fffd = "\xEF\xBF\xBD";
  const std::string expected = "bad " + fffd + fffd + " x " + fffd + fffd + " y " + fffd + fffd + fffd +
                               " z \xC3\xA9 \"q\"\t\\ \x01 " + fffd + fffd;
  EXPECT_EQ(got, expected);
  EXPECT_NE(r.dead.find("\\ufffd\\ufffd x "), std::string::npos);  // written as an escape
  EXPECT_NE(r.dead.find("\\u0001"), std::string::npos);
  std::uint64_t offset = 0, length = 0;
  ASSERT_EQ(rec["offset"].get(offset), simdjson::SUCCESS);
  ASSERT_EQ(rec["length"].get(length), simdjson::SUCCESS);
  EXPECT_EQ(offset, 7u);
  EXPECT_EQ(length, line.size());
  // The raw format keeps the bytes as they were.
  const auto raw = parse_text(line + "\n", config{}, dead_letter_format::raw);
  EXPECT_EQ(raw.dead, line + "\n");
}

TEST(BatchParser, OversizeLineInsideANormalBatch) {
  config cfg;
  cfg.max_line_bytes = 20;
  const std::string at_limit = "{\"k\":\"0123456789ab\"}";  // exactly 20 bytes: an event
  ASSERT_EQ(at_limit.size(), 20u);
  const std::string longer = "{\"long\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"}";  // 35 bytes
  ASSERT_EQ(longer.size(), 35u);
  const std::string text = "{\"a\":1}\n" + longer + "\n" + at_limit + "\n{\"b\":2}\n";

  const auto raw = parse_text(text, cfg, dead_letter_format::raw);
  EXPECT_EQ(raw.counts.oversize, 1u);
  EXPECT_EQ(raw.counts.events, 3u);
  EXPECT_EQ(raw.counts.invalid, 0u);
  EXPECT_EQ(raw.counts.lines, 4u);
  EXPECT_EQ(raw.out, "{\"a\":1}\n" + at_limit + "\n{\"b\":2}\n");
  EXPECT_EQ(raw.dead, longer.substr(0, 20) + "\n");

  const auto js = parse_text(text, cfg, dead_letter_format::json, true, 100);
  simdjson::dom::parser parser;
  simdjson::dom::element rec;
  const simdjson::padded_string dead(js.dead);
  ASSERT_EQ(parser.parse(dead).get(rec), simdjson::SUCCESS) << js.dead;
  EXPECT_EQ(std::string_view(rec["reason"]), "oversize");
  EXPECT_EQ(std::string_view(rec["error"]), "the line is longer than --max-line-bytes");
  EXPECT_EQ(uint64_t(rec["offset"]), 108u);
  EXPECT_EQ(uint64_t(rec["length"]), 35u);
  EXPECT_EQ(std::string_view(rec["line"]), longer.substr(0, 20));
}

TEST(BatchParser, CrlfLineOfExactlyMaxLineBytesIsNotOversize) {
  config cfg;
  cfg.max_line_bytes = 20;
  const std::string at_limit = "{\"k\":\"0123456789ab\"}";  // 20 bytes before its "\r\n"
  ASSERT_EQ(at_limit.size(), 20u);
  const std::string over = "{\"k\":\"0123456789abc\"}";  // 21
  const auto r = parse_text(at_limit + "\r\n" + over + "\r\n" + at_limit + "\r", cfg, dead_letter_format::json);
  EXPECT_EQ(r.counts.events, 2u);
  EXPECT_EQ(r.counts.oversize, 1u);
  simdjson::dom::parser parser;
  simdjson::dom::element rec;
  const simdjson::padded_string dead(r.dead);
  ASSERT_EQ(parser.parse(dead).get(rec), simdjson::SUCCESS) << r.dead;
  EXPECT_EQ(uint64_t(rec["length"]), 21u);  // as for the same LF line
}

TEST(BatchParser, OversizeBatchFromTheFramer) {
  config cfg;
  cfg.max_line_bytes = 20;
  const sluice::transform tr(cfg);
  const dead_letter_writer dl(dead_letter_format::json, true);
  batch_parser parser(cfg, tr, dl);
  auto b = make_batch(std::string(20, 'z'), 4096);
  b->kind = batch::content::oversize;
  b->oversize_length = 123456;
  b->source_name = "second.log";
  parser.parse(*b);
  EXPECT_EQ(b->counts.lines, 1u);
  EXPECT_EQ(b->counts.oversize, 1u);
  EXPECT_EQ(b->counts.events, 0u);
  EXPECT_EQ(b->out, "");
  EXPECT_EQ(b->dead,
            "{\"reason\":\"oversize\",\"error\":\"the line is longer than --max-line-bytes\","
            "\"source\":\"second.log\",\"offset\":4096,\"length\":123456,\"line\":\"zzzzzzzzzzzzzzzzzzzz\"}\n");
}


// ---- a batch as one document stream, or line by line ------------------------------
// A batch of at least stream_min_bytes is first parsed as one simdjson document stream;
// from the first line that is not exactly one object, lines are parsed one by one. Both
// ways must give the same output, dead letters, counts and event ends.

struct parse_result {
  std::string out;
  std::string dead;
  sluice::batch_counts counts;
  std::vector<std::uint32_t> event_ends;
  std::uint64_t streamed = 0;
};

parse_result parse_with(const std::string& text, const config& cfg, std::size_t stream_min_bytes) {
  const sluice::transform tr(cfg);
  const dead_letter_writer dl(dead_letter_format::json, true);
  batch_parser parser(cfg, tr, dl, stream_min_bytes);
  auto b = make_batch(text, 1000);
  b->source_name = "stream.log";
  parser.parse(*b);
  return {b->out, b->dead, b->counts, b->event_ends, parser.streamed_lines()};
}

constexpr std::size_t always_stream = 0;
constexpr std::size_t never_stream = SIZE_MAX;

// Parses `text` both ways, expects the same result and returns the streamed one.
parse_result expect_same_both_ways(const std::string& text, const config& cfg = config{}) {
  const auto streamed = parse_with(text, cfg, always_stream);
  const auto per_line = parse_with(text, cfg, never_stream);
  EXPECT_EQ(per_line.streamed, 0u);
  EXPECT_EQ(streamed.out, per_line.out) << text;
  EXPECT_EQ(streamed.dead, per_line.dead) << text;
  EXPECT_EQ(streamed.event_ends, per_line.event_ends) << text;
  const auto& a = streamed.counts;
  const auto& b = per_line.counts;
  EXPECT_EQ(a.lines, b.lines) << text;
  EXPECT_EQ(a.events, b.events) << text;
  EXPECT_EQ(a.invalid, b.invalid) << text;
  EXPECT_EQ(a.oversize, b.oversize) << text;
  EXPECT_EQ(a.filtered, b.filtered) << text;
  EXPECT_EQ(a.empty, b.empty) << text;
  return streamed;
}

TEST(BatchStream, CleanBatchIsTakenWholeFromTheStream) {
  const std::string text = "{\"a\":1}\n\n  {\"b\":[1,{\"c\":null}]} \r\n{}\n{\"d\":\"x\\\"}\"}";
  const auto r = expect_same_both_ways(text);
  EXPECT_EQ(r.counts.events, 4u);
  EXPECT_EQ(r.counts.empty, 1u);
  EXPECT_EQ(r.streamed, 4u);
  EXPECT_EQ(r.out, "{\"a\":1}\n{\"b\":[1,{\"c\":null}]}\n{}\n{\"d\":\"x\\\"}\"}\n");
}

TEST(BatchStream, SamplesGiveTheSameResultBothWays) {
  for (const char* name : {"/app.ndjson", "/nasty.ndjson"}) {
    SCOPED_TRACE(name);
    const auto r = expect_same_both_ways(read_file(std::string(SLUICE_SAMPLES_DIR) + name));
    EXPECT_GT(r.counts.events, 0u);
  }
  // app.ndjson's first malformed line is line 57: the 56 lines before it are streamed.
  const auto app = parse_with(read_file(SLUICE_SAMPLES_DIR "/app.ndjson"), config{}, always_stream);
  EXPECT_EQ(app.streamed, 56u);
}

// Each case: a line (or lines) that is not exactly one object, between good lines. The
// stream must hand over at that line, and the result must not change.
TEST(BatchStream, HandsOverAtTheFirstLineThatIsNotOneObject) {
  const std::string good = "{\"k\":\"v\",\"n\":[1,2]}";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"object over two lines", "{\"a\":\n1}"},
      {"two objects on a line", "{\"a\":1}{\"b\":2}"},
      {"two objects with a space", "{\"a\":1} {\"b\":2}"},
      {"object then garbage", "{\"a\":1} x"},
      {"scalar", "42"},
      {"string", "\"just a string\""},
      {"array", "[1,2,3]"},
      {"literal", "true"},
      {"unclosed string", "{\"a\":\"open}"},
      {"two unclosed strings", "{\"a\":\"open}\n" + good + "\n{\"b\":\"open}"},
      {"quote opened by an escape", "{\"a\":\"x\\\\\"y\"}"},
      {"trailing backslash", "{\"a\":\"x\\\"}"},
      {"missing brace", "{\"a\":1"},
      {"extra brace", "{\"a\":1}}"},
      {"closing brace alone", "}"},
      {"closing bracket alone", "]"},
      {"opening brace alone", "{"},
      {"invalid UTF-8", "{\"a\":\"\xff\"}"},
      {"truncated UTF-8", "{\"a\":\"\xe2\x82\"}"},
      {"control character in a string", "{\"a\":\"x\x01y\"}"},
      {"comma between objects", "{\"a\":1},{\"b\":2}"},
      {"bare words", "not json at all"},
      {"too deep", std::string(2000, '[') + std::string(2000, ']')},
      {"deep object", "{\"a\":" + std::string(1100, '[') + std::string(1100, ']') + "}"},
      {"NUL byte", std::string("{\"a\":1}\0", 8)},
      {"byte order mark", "\xef\xbb\xbf{\"a\":1}"},
      {"form feed (not JSON whitespace)", "\f{\"a\":1}"},
  };
  for (const auto& [what, bad] : cases) {
    SCOPED_TRACE(what);
    for (const std::string& text :
         {good + "\n" + good + "\n" + bad + "\n" + good + "\n", bad + "\n" + good + "\n",
          good + "\n" + bad, good + "\n" + good + "\n" + bad + "\n\n" + good}) {
      const auto r = expect_same_both_ways(text);
      EXPECT_LE(r.streamed, 2u);
      EXPECT_GE(r.counts.events, 1u);
    }
  }
}

TEST(BatchStream, OversizeLineHandsOver) {
  config cfg;
  cfg.max_line_bytes = 20;
  const std::string text = "{\"a\":1}\n{\"long\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"}\n{\"b\":2}\n";
  const auto r = expect_same_both_ways(text, cfg);
  EXPECT_EQ(r.streamed, 1u);
  EXPECT_EQ(r.counts.oversize, 1u);
  EXPECT_EQ(r.counts.events, 2u);
}

TEST(BatchStream, FilterAndReshapeSeeTheSameEvents) {
  config cfg;
  cfg.where = "level == \"error\" or n > 2";
  cfg.select = "level,n";
  std::string text;
  for (int i = 0; i < 50; ++i) {
    text += "{\"level\":\"" + std::string(i % 3 ? "info" : "error") + "\",\"n\":" + std::to_string(i % 5) +
            ",\"x\":1}\n";
  }
  const auto r = expect_same_both_ways(text, cfg);
  EXPECT_EQ(r.streamed, 50u);
  EXPECT_EQ(r.counts.events + r.counts.filtered, 50u);
  EXPECT_GT(r.counts.filtered, 0u);
}

// Random batches of good and bad lines from a pool: same result both ways, and the
// stream stops exactly at the first line that is not one well-formed object.
TEST(BatchStream, RandomMixturesGiveTheSameResult) {
  const std::vector<std::string> good = {
      "{}", "{\"a\":1}", " {\"s\":\"\\u00e9\\n\"}\r", "{\"n\":{\"m\":[true,false,null,-1.5e3]}}",
      "{\"q\":\"}{\"}", "{\"b\":\"[\\\"]\"}", "{\"u\":\"\xc3\xa9\xe2\x82\xac\"}"};
  const std::vector<std::string> bad = {"{",         "}",          "\"open",   "{\"a\":\"open}", "[1]",
                                        "7",         "{\"a\":1}x", "\xff",     "{\"a\":}",      "nul",
                                        "{\"a\":1}{", "{\"a\":\\}", "\"\\\"",   "{\"a\"\n:1}",   "{\"a\":1}}"};
  std::uint64_t state = 12345;
  const auto next = [&state](std::uint64_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % n;
  };
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    std::uint64_t first_bad = SIZE_MAX;
    std::uint64_t non_empty = 0;
    const std::uint64_t n = 1 + next(12);
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t pick = next(10);
      if (pick == 0) {
        text += "  ";
      } else if (pick <= 2) {
        if (first_bad == SIZE_MAX) first_bad = non_empty;
        text += bad[next(bad.size())];
        ++non_empty;
      } else {
        text += good[next(good.size())];
        ++non_empty;
      }
      if (i + 1 < n || next(2)) text += "\n";
    }
    SCOPED_TRACE(text);
    const auto r = expect_same_both_ways(text);
    // A bad line may join with the next lines into one document (e.g. "{\"a\"\n:1}"),
    // so the stream never goes past the first bad line.
    if (first_bad == SIZE_MAX) {
      EXPECT_EQ(r.streamed, non_empty);
    } else {
      EXPECT_LE(r.streamed, first_bad);
    }
  }
}

}  // namespace
