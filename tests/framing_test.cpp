// line_framer: cutting a byte stream into batches of whole lines (DESIGN.md §1, framing.hpp).
#include "sluice/framing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "sluice/batch.hpp"
#include "support/chunked_stream.hpp"

namespace {

using sluice::batch;
using sluice::line_framer;
using sluice::testing::chunked_stream;
using status = line_framer::status;

const std::string bom = "\xEF\xBB\xBF";

// What one fill() produced, copied out of the batch.
struct framed {
  status st;
  std::uint64_t offset;
  std::string bytes;
  batch::content kind;
  std::uint64_t oversize_length;
  std::size_t capacity;
};

framed fill_one(line_framer& f, chunked_stream& in, std::size_t capacity) {
  batch b(capacity);
  const status st = f.fill(in, b);
  return {st, b.offset, std::string(b.bytes()), b.kind, b.oversize_length, b.capacity()};
}

// Fills fresh batches of `batch_bytes` until the framer says the input ended or failed.
std::vector<framed> frame_all(chunked_stream& in, std::size_t batch_bytes, std::size_t max_line_bytes,
                              line_framer* framer = nullptr) {
  line_framer local(batch_bytes, max_line_bytes);
  line_framer& f = framer ? *framer : local;
  f.start_input();
  std::vector<framed> out;
  for (int guard = 0; guard < 100000; ++guard) {
    out.push_back(fill_one(f, in, batch_bytes));
    if (out.back().st != status::more) return out;
  }
  ADD_FAILURE() << "the framer never reported the end of the input";
  return out;
}

std::string lines_bytes(const std::vector<framed>& v) {
  std::string s;
  for (const auto& b : v)
    if (b.kind == batch::content::lines) s += b.bytes;
  return s;
}

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

TEST(Framing, CrlfLinesStayWhole) {
  const std::string input = "{\"a\":1}\r\n{\"b\":2}\r\n";
  chunked_stream in(input);
  const auto v = frame_all(in, 64, 1024);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].st, status::more);
  EXPECT_EQ(v[0].offset, 0u);
  EXPECT_EQ(v[0].bytes, input);  // the '\r' is still there: trimming is the parse stage's job
  EXPECT_EQ(v[1].st, status::ended);
  EXPECT_EQ(v[1].offset, 18u);
  EXPECT_EQ(v[1].bytes, "");
}

TEST(Framing, LastLineWithoutNewlineIsEmittedAtEnd) {
  chunked_stream in("a\nbc");
  const auto v = frame_all(in, 64, 1024);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].st, status::more);
  EXPECT_EQ(v[0].bytes, "a\n");
  EXPECT_EQ(v[0].offset, 0u);
  EXPECT_EQ(v[1].st, status::ended);
  EXPECT_EQ(v[1].bytes, "bc");
  EXPECT_EQ(v[1].offset, 2u);
  EXPECT_EQ(v[1].kind, batch::content::lines);
}

TEST(Framing, OnlyAnUnterminatedLine) {
  chunked_stream in("{\"x\":1}", {3});
  const auto v = frame_all(in, 64, 1024);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].st, status::ended);
  EXPECT_EQ(v[0].bytes, "{\"x\":1}");
  EXPECT_EQ(v[0].offset, 0u);
}

TEST(Framing, EmptyInputEndsWithAnEmptyBatch) {
  chunked_stream in("");
  const auto v = frame_all(in, 64, 1024);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].st, status::ended);
  EXPECT_EQ(v[0].bytes, "");
  EXPECT_EQ(v[0].offset, 0u);
}

TEST(Framing, EmptyLinesAreKeptAsLines) {
  const std::string input = "\n\n{}\n\n \t\n\n";
  chunked_stream in(input, {2});  // pieces of 2 bytes: newline after newline
  const auto v = frame_all(in, 64, 1024);
  EXPECT_EQ(lines_bytes(v), input);
  EXPECT_EQ(v.back().st, status::ended);
  // Every batch but the last ends at a newline, and the first one is the first "\n\n".
  ASSERT_GE(v.size(), 2u);
  EXPECT_EQ(v[0].bytes, "\n\n");
  for (std::size_t i = 0; i + 1 < v.size(); ++i) {
    ASSERT_FALSE(v[i].bytes.empty());
    EXPECT_EQ(v[i].bytes.back(), '\n');
  }
}

TEST(Framing, BomAtStartIsSkippedAndCountedInOffsets) {
  const std::string input = bom + "{}\n{\"a\":1}\n";
  chunked_stream in(input);
  line_framer f(64, 1024);
  const auto v = frame_all(in, 64, 1024, &f);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].st, status::more);
  EXPECT_EQ(v[0].offset, 3u);
  EXPECT_EQ(v[0].bytes, "{}\n{\"a\":1}\n");
  EXPECT_EQ(v[1].st, status::ended);
  EXPECT_EQ(v[1].offset, input.size());
  EXPECT_EQ(v[1].bytes, "");
  EXPECT_EQ(f.bytes_read(), input.size());  // the BOM was read, just not handed on
}

TEST(Framing, BomSplitAcrossTwoReads) {
  const std::string input = bom + "{\"a\":1}\n{}\n";
  chunked_stream in(input, {1, 1000});  // "\xEF", then the rest
  const auto v = frame_all(in, 64, 1024);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].offset, 3u);
  EXPECT_EQ(v[0].bytes, "{\"a\":1}\n{}\n");
  EXPECT_EQ(v[1].st, status::ended);
  EXPECT_EQ(v[1].offset, input.size());
}

TEST(Framing, BomReadOneByteAtATime) {
  const std::string input = bom + "{}\n";
  chunked_stream in(input, {1});
  const auto v = frame_all(in, 64, 1024);
  EXPECT_EQ(lines_bytes(v), "{}\n");
  ASSERT_GE(v.size(), 1u);
  EXPECT_EQ(v[0].offset, 3u);
  EXPECT_EQ(v[0].bytes, "{}\n");
}

TEST(Framing, BomOnlyInputGivesNothing) {
  chunked_stream in(bom);
  const auto v = frame_all(in, 64, 1024);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].st, status::ended);
  EXPECT_EQ(v[0].bytes, "");
  EXPECT_EQ(v[0].offset, 3u);
}

TEST(Framing, BomNotAtStartIsKept) {
  // The second read starts with a BOM, but it is not the start of the input.
  const std::string input = "{}\n" + bom + "{}\n";
  chunked_stream in(input, {3, 1000});
  const auto v = frame_all(in, 64, 1024);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].bytes, "{}\n");
  EXPECT_EQ(v[1].bytes, bom + "{}\n");
  EXPECT_EQ(v[1].offset, 3u);
  EXPECT_EQ(v[2].st, status::ended);
  EXPECT_EQ(v[2].offset, input.size());
}

TEST(Framing, PartialBomIsKept) {
  const std::string input = "\xEF\xBB{}\n";
  chunked_stream in(input, {1});
  const auto v = frame_all(in, 64, 1024);
  EXPECT_EQ(lines_bytes(v), input);
  EXPECT_EQ(v[0].offset, 0u);
}

TEST(Framing, BomAgainAfterStartInput) {
  // A new input begins: offsets restart at 0 and a BOM is looked for again.
  line_framer f(64, 1024);
  chunked_stream first("a\n");
  auto v = frame_all(first, 64, 1024, &f);
  EXPECT_EQ(lines_bytes(v), "a\n");
  chunked_stream second(bom + "b\n");
  v = frame_all(second, 64, 1024, &f);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].offset, 3u);
  EXPECT_EQ(v[0].bytes, "b\n");
  EXPECT_EQ(f.bytes_read(), 5u);
}

TEST(Framing, QuietPipeShortReadGivesABatchAtOnce) {
  // One short read holds two whole lines and the start of a third; the framer must not
  // wait for more (a quiet pipe would block it): the whole lines go out now.
  const std::string input = "a\nb\nccc\nd\n";
  chunked_stream in(input, {6, 1000});
  line_framer f(64, 1024);
  f.start_input();
  auto b1 = fill_one(f, in, 64);
  EXPECT_EQ(b1.st, status::more);
  EXPECT_EQ(in.reads(), 1u);  // no second read was attempted
  EXPECT_EQ(b1.bytes, "a\nb\n");
  EXPECT_EQ(b1.offset, 0u);
  auto b2 = fill_one(f, in, 64);
  EXPECT_EQ(b2.st, status::more);
  EXPECT_EQ(b2.bytes, "ccc\nd\n");  // the partial "cc" came back, completed
  EXPECT_EQ(b2.offset, 4u);
  auto b3 = fill_one(f, in, 64);
  EXPECT_EQ(b3.st, status::ended);
  EXPECT_EQ(b3.bytes, "");
  EXPECT_EQ(b3.offset, input.size());
}

TEST(Framing, BatchBytesIsAMaximum) {
  // 1000 lines of 10 bytes, read as a file (every read returns what is asked).
  std::string input;
  for (int i = 0; i < 1000; ++i) {
    char line[16];
    std::snprintf(line, sizeof line, "line-%04d\n", i);
    input += line;
  }
  ASSERT_EQ(input.size(), 10000u);
  chunked_stream in(input);
  const auto v = frame_all(in, 64, 1024);
  // A 64-byte buffer holds 6 whole lines and 4 bytes of the 7th: every batch is cut at
  // 60 bytes, 166 of them, then the last 40 bytes, then the empty end.
  ASSERT_EQ(v.size(), 168u);
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < 166; ++i) {
    EXPECT_EQ(v[i].st, status::more);
    EXPECT_EQ(v[i].offset, offset);
    EXPECT_EQ(v[i].bytes.size(), 60u) << "batch " << i;
    EXPECT_EQ(v[i].capacity, 64u);
    offset += v[i].bytes.size();
  }
  EXPECT_EQ(v[166].offset, 9960u);
  EXPECT_EQ(v[166].bytes.size(), 40u);
  EXPECT_EQ(v[167].st, status::ended);
  EXPECT_EQ(v[167].offset, 10000u);
  EXPECT_EQ(lines_bytes(v), input);
}

TEST(Framing, LineLongerThanBatchTravelsWholeInAGrownBatch) {
  const std::string long_line = repeat('x', 200);
  const std::string input = "ab\n" + long_line + "\ncd\n";
  chunked_stream in(input);
  const auto v = frame_all(in, 64, 1024);
  EXPECT_EQ(lines_bytes(v), input);
  for (const auto& b : v) EXPECT_EQ(b.kind, batch::content::lines);
  // The batch that holds the long line starts with it, holds all of it, and grew for it.
  bool found = false;
  for (const auto& b : v) {
    if (b.offset != 3) continue;
    found = true;
    ASSERT_GE(b.bytes.size(), 201u);
    EXPECT_EQ(b.bytes.substr(0, 201), long_line + "\n");
    EXPECT_GE(b.capacity, 201u);
    EXPECT_LE(b.capacity, 1025u);  // never more than max_line_bytes + 1
  }
  EXPECT_TRUE(found);
}

TEST(Framing, LineOfExactlyMaxLineBytesIsNotOversize) {
  const std::string line = repeat('x', 100);
  const std::string input = line + "\nok\n";
  for (std::size_t chunk : {std::size_t{7}, std::size_t{100000}}) {
    chunked_stream in(input, {chunk});
    const auto v = frame_all(in, 16, 100);
    for (const auto& b : v) EXPECT_EQ(b.kind, batch::content::lines) << "chunk " << chunk;
    EXPECT_EQ(lines_bytes(v), input) << "chunk " << chunk;
    EXPECT_EQ(v.back().st, status::ended);
  }
}

TEST(Framing, CrlfLineOfExactlyMaxLineBytesIsNotOversize) {
  // 100 bytes before "\r\n": the '\r' does not count, as the same LF line is not oversize.
  // Batches smaller than the line, so the framer (not the parse stage) decides.
  const std::string line = repeat('x', 100);
  const std::string input = line + "\r\nok\r\n";
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{100000}}) {
    chunked_stream in(input, {chunk});
    const auto v = frame_all(in, 16, 100);
    for (const auto& b : v) EXPECT_EQ(b.kind, batch::content::lines) << "chunk " << chunk;
    EXPECT_EQ(lines_bytes(v), input) << "chunk " << chunk;
    EXPECT_EQ(v.back().st, status::ended);
  }
  // Also when the batch is exactly max-line-bytes + 1 (full at the '\r').
  chunked_stream in(input);
  const auto v = frame_all(in, 101, 100);
  for (const auto& b : v) EXPECT_EQ(b.kind, batch::content::lines);
  EXPECT_EQ(lines_bytes(v), input);
}

TEST(Framing, CrlfLineOneByteOverMaxLineBytesIsOversizeWithoutItsCr) {
  const std::string input = "ok\r\n" + repeat('x', 101) + "\r\nz\r\n";
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{100000}}) {
    chunked_stream in(input, {chunk});
    const auto v = frame_all(in, 16, 100);
    std::vector<framed> over;
    for (const auto& b : v)
      if (b.kind == batch::content::oversize) over.push_back(b);
    ASSERT_EQ(over.size(), 1u) << "chunk " << chunk;
    EXPECT_EQ(over[0].offset, 4u);
    EXPECT_EQ(over[0].bytes, repeat('x', 100));
    EXPECT_EQ(over[0].oversize_length, 101u) << "chunk " << chunk;  // as for the LF line
    EXPECT_EQ(lines_bytes(v), "ok\r\nz\r\n");
  }
  // A '\r' inside the line, not before its '\n', still counts.
  chunked_stream in(repeat('x', 100) + "\ry\n");
  const auto v = frame_all(in, 16, 100);
  ASSERT_GE(v.size(), 1u);
  EXPECT_EQ(v[0].kind, batch::content::oversize);
  EXPECT_EQ(v[0].oversize_length, 102u);
}

TEST(Framing, ReleasedHeldLineIsReadAgainWholeAndCountedOnce) {
  // Follow mode: the unfinished line is let go of (its memory too) and read again from
  // offset() once its newline is there; bytes_read() counts its bytes once.
  std::string file = "a\n" + repeat('x', 5000);
  line_framer f(64, 100000);
  f.set_follow(true);
  f.start_input();
  chunked_stream first(file);
  auto v = fill_one(f, first, 64);
  while (v.st == status::more) v = fill_one(f, first, 64);
  ASSERT_EQ(v.st, status::idle);
  ASSERT_TRUE(f.holding());
  EXPECT_EQ(f.offset(), 2u);
  f.release_held();
  EXPECT_FALSE(f.holding());
  file += "\nb\n";
  chunked_stream again(file.substr(f.offset()));
  std::string got;
  for (v = fill_one(f, again, 64); v.st == status::more; v = fill_one(f, again, 64)) got += v.bytes;
  got += v.bytes;
  EXPECT_EQ(got, repeat('x', 5000) + "\nb\n");
  EXPECT_EQ(f.offset(), file.size());
  EXPECT_EQ(f.bytes_read(), file.size());
}

TEST(Framing, LineAtMaxLineBytesWithoutNewlineAtEndIsNotOversize) {
  const std::string input = "a\n" + repeat('x', 100);
  chunked_stream in(input, {7});
  const auto v = frame_all(in, 16, 100);
  for (const auto& b : v) EXPECT_EQ(b.kind, batch::content::lines);
  EXPECT_EQ(lines_bytes(v), input);
  EXPECT_EQ(v.back().st, status::ended);
  EXPECT_EQ(v.back().bytes, repeat('x', 100));
  EXPECT_EQ(v.back().offset, 2u);
}

TEST(Framing, OneByteOverMaxLineBytesIsOversize) {
  // "ok\n" (3) + 101 x + "\n" (offset 3..104) + "after\n" (105..110) + "z\n" (111..112)
  const std::string input = "ok\n" + repeat('x', 101) + "\nafter\nz\n";
  chunked_stream in(input, {7});
  const auto v = frame_all(in, 16, 100);
  std::vector<framed> over;
  for (const auto& b : v)
    if (b.kind == batch::content::oversize) over.push_back(b);
  ASSERT_EQ(over.size(), 1u);
  EXPECT_EQ(over[0].st, status::more);
  EXPECT_EQ(over[0].offset, 3u);
  EXPECT_EQ(over[0].bytes, repeat('x', 100));  // size == max_line_bytes
  EXPECT_EQ(over[0].oversize_length, 101u);
  // The lines around it are framed as usual, with their own offsets.
  EXPECT_EQ(lines_bytes(v), "ok\nafter\nz\n");
  std::uint64_t expect_offset = 0;
  for (const auto& b : v) {
    if (b.kind == batch::content::oversize) {
      expect_offset = b.offset + b.oversize_length + 1;
      continue;
    }
    if (b.bytes.empty() && b.st == status::more) continue;
    EXPECT_EQ(b.offset, expect_offset);
    EXPECT_EQ(input.substr(b.offset, b.bytes.size()), b.bytes);
    expect_offset = b.offset + b.bytes.size();
  }
  EXPECT_EQ(expect_offset, input.size());
  EXPECT_EQ(v.back().st, status::ended);
  EXPECT_EQ(v.back().offset, input.size());
}

TEST(Framing, OversizeLineSpanningManyReads) {
  // A 5000-byte line read 7 bytes at a time: only max_line_bytes of it are kept.
  const std::string input = "{\"a\":1}\n" + repeat('y', 5000) + "\n{\"b\":2}\n";
  chunked_stream in(input, {7});
  line_framer f(16, 40);
  const auto v = frame_all(in, 16, 40, &f);
  std::size_t oversize = 0;
  for (const auto& b : v) {
    if (b.kind != batch::content::oversize) continue;
    ++oversize;
    EXPECT_EQ(b.offset, 8u);
    EXPECT_EQ(b.bytes, repeat('y', 40));
    EXPECT_EQ(b.oversize_length, 5000u);
    EXPECT_LE(b.capacity, 41u);  // the rest of the line was never buffered
  }
  EXPECT_EQ(oversize, 1u);
  EXPECT_EQ(lines_bytes(v), "{\"a\":1}\n{\"b\":2}\n");
  // The line after it starts right after the oversize line's newline.
  bool found = false;
  for (const auto& b : v) {
    if (b.kind == batch::content::lines && b.bytes.rfind("{\"b\"", 0) == 0) {
      found = true;
      EXPECT_EQ(b.offset, 8u + 5000u + 1u);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(v.back().st, status::ended);
  EXPECT_EQ(f.bytes_read(), input.size());
}

TEST(Framing, OversizeLineAtEndWithoutNewline) {
  const std::string input = "ok\n" + repeat('x', 50);
  chunked_stream in(input, {7});
  const auto v = frame_all(in, 16, 40);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].st, status::more);
  EXPECT_EQ(v[0].bytes, "ok\n");
  EXPECT_EQ(v[1].st, status::ended);
  EXPECT_EQ(v[1].kind, batch::content::oversize);
  EXPECT_EQ(v[1].offset, 3u);
  EXPECT_EQ(v[1].bytes, repeat('x', 40));
  EXPECT_EQ(v[1].oversize_length, 50u);
}

TEST(Framing, OversizeLineRightAfterBom) {
  const std::string input = bom + repeat('x', 60) + "\n{}\n";
  chunked_stream in(input, {5});
  const auto v = frame_all(in, 16, 40);
  ASSERT_GE(v.size(), 2u);
  EXPECT_EQ(v[0].kind, batch::content::oversize);
  EXPECT_EQ(v[0].offset, 3u);
  EXPECT_EQ(v[0].oversize_length, 60u);
  EXPECT_EQ(lines_bytes(v), "{}\n");
  for (const auto& b : v) {
    if (b.kind == batch::content::lines && !b.bytes.empty()) {
      EXPECT_EQ(b.offset, 64u);
    }
  }
}

// Regression: the bytes read together with the end of an oversize line can hold many
// whole lines; they were once taken for the start of one unfinished line, reported as a
// second oversize line and lost.
TEST(Framing, LinesReadTogetherWithTheEndOfAnOversizeLineAreKept) {
  std::string tail;
  for (int i = 0; i < 60; ++i) tail += "{\"n\":" + std::to_string(10 + i) + "}\n";  // 9 bytes each
  const std::string input = repeat('x', 150) + "\n" + tail;
  chunked_stream in(input);  // a regular file: every read returns what is asked
  const auto v = frame_all(in, 64, 100);
  std::size_t oversize = 0;
  for (const auto& b : v)
    if (b.kind == batch::content::oversize) {
      ++oversize;
      EXPECT_EQ(b.offset, 0u);
      EXPECT_EQ(b.oversize_length, 150u);
    }
  EXPECT_EQ(oversize, 1u);
  EXPECT_EQ(lines_bytes(v), tail);
}

// Regression (same cause): a line of exactly max_line_bytes after an oversize line was
// reported as oversize together with the line before it.
TEST(Framing, LineAtLimitAfterOversizeLineIsNotOversize) {
  // 150 x + "\n" (0..150), "a\n" (151..152), 100 y + "\n" (153..253), "end\n".
  const std::string input = repeat('x', 150) + "\na\n" + repeat('y', 100) + "\nend\n";
  // 64 + 37 bytes fill the 101-byte buffer with x; the skip read takes the other 49 x,
  // the newline, "a\n" and 3 y; later reads are of 1000.
  chunked_stream in(input, {64, 37, 55, 1000});
  const auto v = frame_all(in, 64, 100);
  std::size_t oversize = 0;
  for (const auto& b : v)
    if (b.kind == batch::content::oversize) ++oversize;
  EXPECT_EQ(oversize, 1u);
  EXPECT_EQ(lines_bytes(v), "a\n" + repeat('y', 100) + "\nend\n");
}

TEST(Framing, ReadErrorAtALineBoundaryFails) {
  const std::string input = "a\nb\nc\n";
  chunked_stream in(input, {3});
  in.fail_at(4, EIO);  // "a\nb\n" is served, then EIO
  line_framer f(64, 1024);
  const auto v = frame_all(in, 64, 1024, &f);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].st, status::more);
  EXPECT_EQ(v[0].bytes, "a\n");
  EXPECT_EQ(v[1].st, status::more);
  EXPECT_EQ(v[1].bytes, "b\n");
  EXPECT_EQ(v[1].offset, 2u);
  EXPECT_EQ(v[2].st, status::failed);
  EXPECT_EQ(v[2].bytes, "");
  EXPECT_EQ(v[2].offset, 4u);
  EXPECT_EQ(f.last_errno(), EIO);
  EXPECT_EQ(f.bytes_read(), 4u);
}

TEST(Framing, ReadErrorWhileSkippingAnOversizeLineFails) {
  const std::string input = repeat('x', 100) + "\n{}\n";
  chunked_stream in(input, {7});
  in.fail_at(70, ECONNRESET);
  line_framer f(16, 40);
  const auto v = frame_all(in, 16, 40, &f);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].st, status::failed);
  EXPECT_EQ(v[0].kind, batch::content::oversize);
  EXPECT_EQ(v[0].bytes, repeat('x', 40));
  EXPECT_EQ(v[0].oversize_length, 70u);  // as far as it could be read
  EXPECT_EQ(f.last_errno(), ECONNRESET);
}

// Regression: on a read error the unfinished line ("c", cut anywhere) was handed on as if
// it were the last line of a finished input (DESIGN.md §1 allows that only for a
// finished input); it was parsed, dead-lettered and counted as read.
TEST(Framing, ReadErrorDoesNotHandOnAPartialLine) {
  chunked_stream in("a\nb\ncc\n");
  in.fail_at(5, EIO);  // one read returns "a\nb\nc", the next fails
  line_framer f(64, 1024);
  const auto v = frame_all(in, 64, 1024, &f);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].st, status::more);
  EXPECT_EQ(v[0].bytes, "a\nb\n");
  EXPECT_EQ(v[1].st, status::failed);
  EXPECT_EQ(f.last_errno(), EIO);
  EXPECT_EQ(v[1].bytes, "") << "the unfinished line \"c\" was handed on as a line";
}

TEST(Framing, ReusedBatchIsResetByFill) {
  // The pool reuses batches: fill() must set kind and oversize_length again.
  const std::string input = repeat('x', 50) + "\nok\n";
  chunked_stream in(input, {7});
  line_framer f(16, 40);
  f.start_input();
  batch b(16);
  ASSERT_EQ(f.fill(in, b), status::more);
  ASSERT_EQ(b.kind, batch::content::oversize);
  status st;
  std::string rest;
  do {
    st = f.fill(in, b);
    EXPECT_EQ(b.kind, batch::content::lines);
    EXPECT_EQ(b.oversize_length, 0u);
    rest += std::string(b.bytes());
  } while (st == status::more);
  EXPECT_EQ(st, status::ended);
  EXPECT_EQ(rest, "ok\n");
}

// ---- property tests -------------------------------------------------------------

std::string random_line(std::mt19937& rng, std::size_t longest) {
  const int kind = std::uniform_int_distribution<int>(0, 99)(rng);
  std::size_t len;
  if (kind < 20) len = 0;
  else if (kind < 75) len = std::uniform_int_distribution<std::size_t>(1, 30)(rng);
  else if (kind < 93) len = std::uniform_int_distribution<std::size_t>(31, 200)(rng);
  else len = std::uniform_int_distribution<std::size_t>(201, longest)(rng);
  static const char alphabet[] = "{}\":,abcxyz0123 \t\r\xEF\xBB\xBF";
  std::uniform_int_distribution<std::size_t> pick(0, sizeof alphabet - 2);
  std::string s(len, ' ');
  for (auto& c : s) c = alphabet[pick(rng)];
  return s;
}

std::vector<std::size_t> random_chunks(std::mt19937& rng, std::size_t n) {
  const std::size_t top = std::uniform_int_distribution<int>(0, 3)(rng) == 0 ? 3 : 300;
  std::uniform_int_distribution<std::size_t> size(1, top);
  std::vector<std::size_t> v(n + 1);
  for (auto& s : v) s = size(rng);
  return v;
}

TEST(FramingProperty, BatchesReconstructTheInput) {
  std::mt19937 rng(20240501);
  const std::size_t max_line = 600;
  for (int round = 0; round < 200; ++round) {
    std::string body;
    const int lines = std::uniform_int_distribution<int>(0, 60)(rng);
    for (int i = 0; i < lines; ++i) {
      body += random_line(rng, max_line);
      if (i + 1 < lines || std::uniform_int_distribution<int>(0, 2)(rng) != 0) body += '\n';
    }
    if (body.rfind(bom, 0) == 0) body[0] = 'x';  // only the BOM we choose to add
    const bool with_bom = std::uniform_int_distribution<int>(0, 4)(rng) == 0;
    const std::string input = (with_bom ? bom : "") + body;
    const std::size_t batch_bytes = std::array<std::size_t, 3>{16, 64, 256}[round % 3];
    chunked_stream in(input, random_chunks(rng, input.size()));
    line_framer f(batch_bytes, max_line);
    const auto v = frame_all(in, batch_bytes, max_line, &f);
    SCOPED_TRACE("round " + std::to_string(round) + ", batch_bytes " + std::to_string(batch_bytes));

    ASSERT_FALSE(v.empty());
    EXPECT_EQ(v.back().st, status::ended);
    EXPECT_EQ(lines_bytes(v), body);
    EXPECT_EQ(f.bytes_read(), input.size());
    std::uint64_t offset = with_bom ? 3 : 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const auto& b = v[i];
      EXPECT_EQ(b.kind, batch::content::lines);
      EXPECT_EQ(b.offset, offset) << "batch " << i;
      EXPECT_EQ(input.substr(b.offset, b.bytes.size()), b.bytes);
      // Whole lines: a batch starts at a line start and, unless it is the last, ends
      // with a newline.
      EXPECT_TRUE(b.offset == (with_bom ? 3u : 0u) || input[b.offset - 1] == '\n');
      if (b.st == status::more) {
        ASSERT_FALSE(b.bytes.empty()) << "batch " << i;
        EXPECT_EQ(b.bytes.back(), '\n') << "batch " << i;
      }
      EXPECT_LE(b.bytes.size(), std::max(batch_bytes, max_line + 1));
      offset += b.bytes.size();
    }
    EXPECT_EQ(offset, input.size());
  }
}

// With oversize lines mixed in. An oversize batch must describe exactly one line of the
// input that is longer than max_line_bytes: its offset (a line start), its first
// max_line_bytes bytes and its full length. (A long line may also reach the parse stage
// inside a lines batch, which checks the length again.) Lines batches and oversize
// lines together cover the input with no gap and no overlap.
// Fails today because of the carry_ bug described above: lines that follow an oversize
// line are merged into a second, made-up oversize "line".
TEST(FramingProperty, OversizeBatchesDescribeRealLines) {
  std::mt19937 rng(777);
  const std::size_t max_line = 100;
  for (int round = 0; round < 200; ++round) {
    std::string input;
    const int lines = std::uniform_int_distribution<int>(1, 40)(rng);
    for (int i = 0; i < lines; ++i) {
      std::string line = random_line(rng, 3 * max_line);
      if (i == 0 && line.rfind(bom, 0) == 0) line[0] = 'x';  // no BOM at the start
      input += line;
      if (i + 1 < lines || std::uniform_int_distribution<int>(0, 2)(rng) != 0) input += '\n';
    }
    const std::size_t batch_bytes = round % 2 ? 16 : 64;
    chunked_stream in(input, random_chunks(rng, input.size()));
    const auto v = frame_all(in, batch_bytes, max_line);
    SCOPED_TRACE("round " + std::to_string(round));

    std::string rebuilt;
    for (const auto& b : v) {
      EXPECT_EQ(b.offset, rebuilt.size());
      if (b.kind == batch::content::lines) {
        rebuilt += b.bytes;
        continue;
      }
      const std::uint64_t len = b.oversize_length;
      EXPECT_GT(len, max_line);
      EXPECT_EQ(b.bytes, input.substr(b.offset, max_line));
      EXPECT_TRUE(b.offset == 0 || input[b.offset - 1] == '\n') << "offset " << b.offset;
      // The length leaves out a '\r' just before the line's '\n'.
      std::uint64_t span = len;
      if (input.compare(b.offset + len, 2, "\r\n") == 0) ++span;
      const std::string line = input.substr(b.offset, span);
      EXPECT_EQ(line.size(), span);
      EXPECT_EQ(line.find('\n'), std::string::npos)
          << "the oversize batch at " << b.offset << " (length " << len << ") spans several lines";
      EXPECT_TRUE(b.offset + span == input.size() || input[b.offset + span] == '\n');
      rebuilt += line;
      if (b.offset + span < input.size()) rebuilt += '\n';
    }
    EXPECT_EQ(rebuilt, input);
    EXPECT_EQ(v.back().st, status::ended);
    if (::testing::Test::HasFailure()) return;  // one round's story is enough
  }
}

}  // namespace
