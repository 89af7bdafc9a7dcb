// The reader: stdin and files, read in the order given, cut into batches by the
// line_framer. It runs on a thread of its own, never on a TBB worker, because reading
// blocks (a quiet pipe) and must not take a parser's core while it waits.
//
// It asks the pipeline for a batch before every fill (`acquire`, which blocks while the
// read-ahead is full: this is where backpressure stops the reading) and hands each
// filled batch on (`emit`). An input that cannot be opened or read is reported,
// counted, and the reader goes on with the next one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sluice/batch.hpp"
#include "sluice/config.hpp"
#include "sluice/framing.hpp"

namespace sluice {

struct reader_stats;

// A file descriptor as a byte_stream. For pipes and terminals it waits with poll() on
// the fd and on a wake-up eventfd, so stop() interrupts a read that would block forever.
class fd_stream final : public byte_stream {
 public:
  fd_stream(int fd, int wake_fd) : fd_(fd), wake_fd_(wake_fd) {}
  long read(char* dst, std::size_t n) override;
  void set_pollable(bool p) { pollable_ = p; }

 private:
  int fd_;
  int wake_fd_;
  bool pollable_ = false;
};

class reader {
 public:
  struct handoff {
    std::function<batch*()> acquire;         // nullptr: the pipeline is stopping
    std::function<void(batch*)> emit;        // a batch with content, in sequence order
    std::function<void(batch*)> give_back;   // a batch that stayed empty
  };

  reader(const config& cfg, reader_stats& stats);
  ~reader();
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  // Names of the inputs ("-" is shown as "stdin"); a batch's `source` indexes this.
  const std::vector<std::string>& source_names() const { return names_; }

  // Reads every input to its end (or until stop()); returns the number of batches emitted.
  std::uint64_t run(const handoff& h);
  // Safe from any thread or a signal-handling thread: stop reading at once.
  void stop();
  bool stopping() const { return stop_.load(std::memory_order_acquire); }
  // Inputs that could not be opened or read.
  std::uint64_t failed_inputs() const { return failed_inputs_; }

 private:
  bool read_input(std::uint32_t index, int fd, const handoff& h);

  const config& cfg_;
  reader_stats& stats_;
  std::vector<std::string> paths_;
  std::vector<std::string> names_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::uint64_t seq_ = 0;
  std::uint64_t failed_inputs_ = 0;
};

}  // namespace sluice
