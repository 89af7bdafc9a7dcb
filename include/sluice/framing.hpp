// Framing cuts a byte stream into batches of whole lines (DESIGN.md §1):
// - '\n' ends a line; the last line of a finished input may lack it;
// - a UTF-8 BOM at the very start of an input is skipped;
// - a batch is emitted as soon as a read returns short (a quiet pipe, a file at its end),
//   cut at the last newline, so latency stays low; --batch-bytes is only a maximum;
// - a line longer than the batch travels in a buffer of its own size;
// - a line longer than --max-line-bytes is oversize: its first max-line-bytes bytes go
//   on in a batch of kind `oversize` with the whole length, and the framer skips to the
//   next newline without buffering the rest.
// Trailing '\r' and whitespace-only lines are the parse stage's business (they are
// still whole lines here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sluice/batch.hpp"

namespace sluice {

// Where bytes come from. read() returns bytes read, 0 at the end of the input, or
// -1 with errno set (EINTR is retried by the implementation).
class byte_stream {
 public:
  virtual ~byte_stream() = default;
  virtual long read(char* dst, std::size_t n) = 0;
};

class line_framer {
 public:
  line_framer(std::size_t batch_bytes, std::size_t max_line_bytes);

  enum class status {
    more,   // a batch was filled (maybe empty: nothing complete yet); call again
    ended,  // the input has ended; the batch holds its last lines (maybe empty)
    failed, // a read error (errno kept in last_errno()); the batch holds the whole lines
  };

  // Starts a new input: offsets from 0, a BOM is looked for.
  void start_input();
  // Fills `b` (whose buffer is at least batch_bytes) with whole lines; sets b.offset,
  // b.size, b.kind and, for an oversize line, b.oversize_length.
  status fill(byte_stream& in, batch& b);

  int last_errno() const { return errno_; }
  // After `failed`: bytes of an unfinished line that were read and not handed on.
  std::size_t discarded() const { return discarded_; }
  std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  status skip_oversize(byte_stream& in, batch& b, std::size_t have);
  // Emits b's first `at` bytes; keeps the rest, up to `len`, for the next batch.
  status cut(batch& b, std::size_t len, std::size_t at);

  std::size_t batch_bytes_;
  std::size_t max_line_bytes_;
  std::vector<char> carry_;  // the unfinished line after the last batch's last newline
  std::vector<char> skip_;   // scratch for skipping the tail of an oversize line
  std::uint64_t offset_ = 0; // input offset of carry_[0]
  std::uint64_t bytes_read_ = 0;
  bool at_start_ = true;
  bool ended_ = false;
  int errno_ = 0;
  std::size_t discarded_ = 0;
};

}  // namespace sluice
