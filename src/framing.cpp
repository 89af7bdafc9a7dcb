#include "sluice/framing.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string.h>  // memrchr

namespace sluice {

namespace {
constexpr char bom[] = "\xEF\xBB\xBF";
constexpr std::size_t skip_chunk = std::size_t{64} << 10;
}  // namespace

line_framer::line_framer(std::size_t batch_bytes, std::size_t max_line_bytes)
    : batch_bytes_(batch_bytes), max_line_bytes_(max_line_bytes) {}

void line_framer::start_input(std::uint64_t offset) {
  carry_.clear();
  offset_ = offset;
  bytes_read_ = 0;
  replay_ = 0;
  at_start_ = offset == 0;
  ended_ = false;
  skipping_ = false;
  errno_ = 0;
  discarded_ = 0;
}

void line_framer::release_held() {
  replay_ += carry_.size();
  std::vector<char>().swap(carry_);
}

void line_framer::count_read(std::size_t n) {
  const std::uint64_t again = std::min<std::uint64_t>(n, replay_);
  replay_ -= again;
  bytes_read_ += n - again;
}

line_framer::status line_framer::fill(byte_stream& in, batch& b) {
  const status st = fill_lines(in, b);
  b.end_offset = offset_;
  return st;
}

line_framer::status line_framer::finish(batch& b) {
  b.kind = batch::content::lines;
  b.oversize_length = 0;
  b.offset = offset_;
  b.size = 0;
  if (!skipping_ && !carry_.empty()) {
    if (carry_.size() > b.capacity()) b.grow(carry_.size(), 0);
    std::memcpy(b.data(), carry_.data(), carry_.size());
    b.size = carry_.size();
    offset_ += carry_.size();
  }
  carry_.clear();
  skipping_ = false;
  ended_ = true;
  b.end_offset = offset_;
  return status::ended;
}

line_framer::status line_framer::fill_lines(byte_stream& in, batch& b) {
  b.kind = batch::content::lines;
  b.size = 0;
  b.oversize_length = 0;
  discarded_ = 0;

  if (skipping_) {
    // Still inside an oversize line whose record went on already: discard to its end.
    const status st = skip_to_newline(in);
    if (skipping_) {
      b.offset = offset_;
      return st;
    }
  }
  b.offset = offset_;

  std::size_t len = carry_.size();
  if (len > b.capacity()) b.grow(len, 0);
  if (len) std::memcpy(b.data(), carry_.data(), len);
  carry_.clear();
  // A framer per followed file: a buffer kept for one long line would stay, per file,
  // outside the memory budget.
  if (carry_.capacity() > skip_chunk) std::vector<char>().swap(carry_);

  // What is left after an oversize line was read in one go with it: it may hold whole
  // lines already, which go on before anything more is read.
  if (const auto* nl = static_cast<const char*>(memrchr(b.data(), '\n', len))) {
    return cut(b, len, static_cast<std::size_t>(nl - b.data()) + 1, status::more);
  }

  bool long_line = false;
  while (!ended_) {
    if (len == b.capacity()) {
      // Full, and no newline in it: one line longer than the buffer. A '\r' before the
      // newline is not part of the line's length: a CRLF line of exactly max-line-bytes
      // needs one byte more of buffer to show its '\n'.
      const bool cr_at_limit = len == max_line_bytes_ + 1 && b.data()[len - 1] == '\r';
      if (len > max_line_bytes_ && !cr_at_limit) return skip_oversize(in, b, len);
      const std::size_t most = cr_at_limit ? max_line_bytes_ + 2 : max_line_bytes_ + 1;
      b.grow(std::min(std::max(2 * b.capacity(), batch_bytes_), most), len);
      long_line = true;
    }
    const long n = in.read(b.data() + len, b.capacity() - len);
    if (n == 0 && follow_) {
      // Nothing more for now (a followed file at its end): hand on the whole lines and
      // hold the unfinished one until its newline comes.
      const auto* nl = static_cast<const char*>(memrchr(b.data(), '\n', len));
      return cut(b, len, nl ? static_cast<std::size_t>(nl - b.data()) + 1 : 0, status::idle);
    }
    if (n <= 0) {
      if (n < 0) errno_ = errno;
      ended_ = true;
      break;
    }
    count_read(static_cast<std::size_t>(n));
    std::size_t fresh = len;
    len += static_cast<std::size_t>(n);
    if (at_start_) {
      const std::size_t seen = std::min<std::size_t>(len, 3);
      if (std::memcmp(b.data(), bom, seen) == 0) {
        if (seen < 3) continue;  // maybe a BOM: wait for its other bytes
        std::memmove(b.data(), b.data() + 3, len - 3);
        len -= 3;
        offset_ += 3;
        b.offset = offset_;
        fresh = 0;
      }
      at_start_ = false;
    }
    // A line longer than a batch travels alone in its own buffer (DESIGN.md §1): cut at
    // its end, not at the last newline read with it.
    const auto* nl = long_line
                         ? static_cast<const char*>(std::memchr(b.data() + fresh, '\n', len - fresh))
                         : static_cast<const char*>(memrchr(b.data() + fresh, '\n', len - fresh));
    if (nl == nullptr) continue;
    return cut(b, len, static_cast<std::size_t>(nl - b.data()) + 1, status::more);
  }
  if (errno_ != 0) {
    // A read failed: hand on the whole lines only. The unfinished one is not a line; it
    // is reported (discarded()) rather than parsed as if it were.
    const auto* nl = static_cast<const char*>(memrchr(b.data(), '\n', len));
    const std::size_t whole = nl ? static_cast<std::size_t>(nl - b.data()) + 1 : 0;
    discarded_ = len - whole;
    b.size = whole;
    offset_ += whole;
    return status::failed;
  }
  // The input has ended: what is left is its last line, which may lack '\n'.
  b.size = len;
  offset_ += len;
  return status::ended;
}

line_framer::status line_framer::cut(batch& b, std::size_t len, std::size_t at, status st) {
  carry_.assign(b.data() + at, b.data() + len);
  b.size = at;
  offset_ += at;
  return st;
}

line_framer::status line_framer::skip_oversize(byte_stream& in, batch& b, std::size_t have) {
  b.kind = batch::content::oversize;
  b.size = max_line_bytes_;
  skipping_ = true;
  skipped_ = have;
  skip_cr_ = b.data()[have - 1] == '\r';
  offset_ += have;
  const status st = skip_to_newline(in);
  // The whole length when its end was found; when a followed file has no more yet, the
  // length so far (the rest is discarded as it comes).
  b.oversize_length = skipped_;
  return st == status::idle ? status::more : st;
}

line_framer::status line_framer::skip_to_newline(byte_stream& in) {
  // No bigger than a batch: what follows the newline becomes the next batch's start.
  skip_.resize(std::min(skip_chunk, batch_bytes_));
  for (;;) {
    const long n = in.read(skip_.data(), skip_.size());
    if (n == 0 && follow_) return status::idle;
    if (n <= 0) {
      if (n < 0) errno_ = errno;
      ended_ = true;
      skipping_ = false;
      return errno_ ? status::failed : status::ended;
    }
    count_read(static_cast<std::size_t>(n));
    const auto* nl = static_cast<const char*>(std::memchr(skip_.data(), '\n', static_cast<std::size_t>(n)));
    if (nl == nullptr) {
      skip_cr_ = skip_[static_cast<std::size_t>(n) - 1] == '\r';
      skipped_ += static_cast<std::uint64_t>(n);
      offset_ += static_cast<std::uint64_t>(n);
      continue;
    }
    const auto upto = static_cast<std::uint64_t>(nl - skip_.data());
    // The length of a CRLF line does not count its '\r' (as for an LF line).
    const bool cr = upto > 0 ? skip_[upto - 1] == '\r' : skip_cr_;
    skipped_ += upto - (cr ? 1 : 0);
    offset_ += upto + 1;
    skipping_ = false;
    carry_.assign(nl + 1, static_cast<const char*>(skip_.data()) + n);
    std::vector<char>().swap(skip_);  // per followed file too: not kept once done
    return status::more;
  }
}

}  // namespace sluice
