// A byte_stream that serves a string in reads of chosen sizes, the way a pipe or a
// socket hands data over in pieces, and can fail with a chosen errno at a chosen byte:
// the fake that drives the line_framer through every read boundary.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "sluice/framing.hpp"

namespace sluice::testing {

class chunked_stream final : public byte_stream {
 public:
  // Read i returns at most chunks[i] bytes (and never more than asked); once the list
  // is used up its last size repeats. No sizes: every read returns all it is asked for
  // (a regular file). Sizes must be > 0 (a read of 0 means the end of the input).
  explicit chunked_stream(std::string data, std::vector<std::size_t> chunks = {})
      : data_(std::move(data)), chunks_(std::move(chunks)) {}

  // From byte `at` on, reads fail: -1 with errno = err. A read does not cross `at`
  // (it returns short), so the bytes before it are always served.
  chunked_stream& fail_at(std::size_t at, int err) {
    fail_at_ = at;
    fail_errno_ = err;
    return *this;
  }

  long read(char* dst, std::size_t n) override {
    ++reads_;
    std::size_t limit = data_.size();
    if (fail_errno_ != 0) {
      if (pos_ >= fail_at_) {
        ++failed_reads_;
        errno = fail_errno_;
        return -1;
      }
      limit = std::min(limit, fail_at_);
    }
    std::size_t want = n;
    if (!chunks_.empty()) {
      const std::size_t size = chunks_[std::min(next_chunk_, chunks_.size() - 1)];
      want = std::min(want, size);
      ++next_chunk_;
    }
    const std::size_t got = std::min(want, limit - pos_);
    std::memcpy(dst, data_.data() + pos_, got);
    pos_ += got;
    return static_cast<long>(got);
  }

  std::size_t reads() const { return reads_; }        // calls to read()
  std::size_t served() const { return pos_; }         // bytes handed out so far
  std::size_t failed_reads() const { return failed_reads_; }
  const std::string& data() const { return data_; }

 private:
  std::string data_;
  std::vector<std::size_t> chunks_;
  std::size_t next_chunk_ = 0;
  std::size_t pos_ = 0;
  std::size_t reads_ = 0;
  std::size_t failed_reads_ = 0;
  std::size_t fail_at_ = 0;
  int fail_errno_ = 0;
};

}  // namespace sluice::testing
