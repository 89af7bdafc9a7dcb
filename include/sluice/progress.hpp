// The progress line: when sluice reads regular files and stderr is a terminal, one
// self-updating line on stderr (never stdout): bytes done / total, %, MiB/s, events/s,
// ETA, and the stage holding everything up right now. Off with --no-progress, when
// stderr is not a terminal, or when an input is not a regular file (no total to show).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "sluice/config.hpp"
#include "sluice/stats.hpp"

namespace sluice {

// Total bytes of the inputs when all are regular files; 0 otherwise.
std::uint64_t regular_input_bytes(const config& cfg);

// One rendering of the line (no '\r', no newline), for tests and the ticker.
std::string progress_text(const pipeline_stats& stats, std::uint64_t total_bytes, double elapsed_s);

class progress_line {
 public:
  // Starts a ticker when cfg and the terminal allow it; otherwise does nothing.
  progress_line(const config& cfg, const pipeline_stats& stats, std::FILE* out = stderr);
  ~progress_line();
  // Stops the ticker and erases the line.
  void stop();
  bool active() const { return thread_.joinable(); }

 private:
  const pipeline_stats& stats_;
  std::FILE* out_;
  std::uint64_t total_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace sluice
