// An output that keeps what it is given, and can be slowed down per write: the fake
// that proves the limiter bounds (a slow sink must make the reader stop, not the
// pipeline grow).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "sluice/sink/file_sink.hpp"

namespace sluice::testing {

class recording_output final : public output {
 public:
  explicit recording_output(std::chrono::microseconds delay_per_write = {}) : delay_(delay_per_write) {}

  std::string text() const {
    std::lock_guard lock(mutex_);
    return text_;
  }
  std::size_t writes() const {
    std::lock_guard lock(mutex_);
    return writes_;
  }


 protected:
  long write_some(const char* data, std::size_t n) override {
    // Simulates a slow consumer (a congested network, a slow disk).
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    std::lock_guard lock(mutex_);
    text_.append(data, n);
    ++writes_;
    return static_cast<long>(n);
  }
  std::string describe() const override { return "recording output"; }

 private:
  std::chrono::microseconds delay_;
  mutable std::mutex mutex_;
  std::string text_;
  std::size_t writes_ = 0;
};

}  // namespace sluice::testing
