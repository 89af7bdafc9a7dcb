// Framing cuts a byte stream into batches of whole lines (DESIGN.md §1):
// - '\n' ends a line; the last line of a finished input may lack it;
// - a UTF-8 BOM at the very start of an input is skipped;
// - a batch is emitted as soon as a read returns short (a quiet pipe, a file at its end),
//   cut at the last newline, so latency stays low; --batch-bytes is only a maximum;
// - a line longer than the batch travels in a buffer of its own size;
// - a line longer than --max-line-bytes is oversize: its first max-line-bytes bytes go
//   on in a batch of kind `oversize` with the whole length, and the framer skips to the
//   next newline without buffering the rest. A '\r' before the '\n' does not count:
//   a CRLF line is oversize exactly when the same LF line is;
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
    more,   // a batch was filled; call again, more may be there
    idle,   // follow mode: no more data for now; the batch holds the whole lines (maybe
            // none) and the unfinished last line is held back
    ended,  // the input has ended; the batch holds its last lines (maybe empty)
    failed, // a read error (errno kept in last_errno()); the batch holds the whole lines
  };

  // Starts a new input (or restarts one at `offset`); at offset 0 a BOM is looked for.
  void start_input(std::uint64_t offset = 0);
  // Follow mode: the end of the data is not the end of the input (a file that grows).
  void set_follow(bool follow) { follow_ = follow; }
  // Ends the input now (rotated away, deleted, truncated, shutdown): the unfinished last
  // line, if any, goes on without its newline.
  status finish(batch& b);
  // Input offset just past what has been handed on (the next batch starts here).
  std::uint64_t offset() const { return offset_; }
  // An unfinished line is held back (follow mode).
  bool holding() const { return !carry_.empty(); }
  std::size_t held_bytes() const { return carry_.size(); }
  // Follow mode, after `idle`: forgets the unfinished line held back, memory included.
  // The caller reads it again from offset() (a followed file keeps it on disk, so what
  // sluice holds does not grow with the number of files); its bytes are not counted in
  // bytes_read() twice.
  void release_held();
  // Fills `b` (whose buffer is at least batch_bytes) with whole lines; sets b.offset,
  // b.end_offset, b.size, b.kind and, for an oversize line, b.oversize_length.
  status fill(byte_stream& in, batch& b);

  int last_errno() const { return errno_; }
  // After `failed`: bytes of an unfinished line that were read and not handed on.
  std::size_t discarded() const { return discarded_; }
  std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  status fill_lines(byte_stream& in, batch& b);
  status skip_oversize(byte_stream& in, batch& b, std::size_t have);
  // Discards up to and including the next newline; what follows it becomes carry_.
  status skip_to_newline(byte_stream& in);
  // Emits b's first `at` bytes; keeps the rest, up to `len`, for the next batch.
  status cut(batch& b, std::size_t len, std::size_t at, status st);

  std::size_t batch_bytes_;
  std::size_t max_line_bytes_;
  std::vector<char> carry_;  // the unfinished line after the last batch's last newline
  std::vector<char> skip_;   // scratch for skipping the tail of an oversize line
  std::uint64_t offset_ = 0; // input offset of carry_[0] (or of the byte being skipped)
  std::uint64_t skipped_ = 0;  // length so far of the oversize line being skipped
  std::uint64_t bytes_read_ = 0;
  std::uint64_t replay_ = 0;  // bytes about to be read again after release_held()
  void count_read(std::size_t n);
  bool at_start_ = true;
  bool ended_ = false;
  bool follow_ = false;
  bool skipping_ = false;  // inside an oversize line already handed on
  bool skip_cr_ = false;   // the last byte skipped was '\r' (not counted if '\n' follows)
  int errno_ = 0;
  std::size_t discarded_ = 0;
};

}  // namespace sluice
