// Readers: stdin and files read once (`file_reader`), or followed as they grow and
// rotate (`follow_reader`, source/follow.hpp). A reader runs on a thread of its own,
// never on a TBB worker, because reading blocks (a quiet pipe, a file that has not
// grown) and must not take a parser's core while it waits.
//
// It asks the pipeline for a batch before every fill (`acquire`, which blocks while the
// read-ahead is full: this is where backpressure stops the reading) and hands each
// filled batch on (`emit`). An input that cannot be opened or read is reported,
// counted, and the reader goes on with the others.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sluice/batch.hpp"
#include "sluice/config.hpp"
#include "sluice/framing.hpp"

namespace sluice {

struct reader_stats;
class checkpoint_store;

// A stream of bytes batches come from: one input, or one content of a followed file
// (a file truncated and rewritten is a new source). Owned by its reader, never moved,
// so batches point at it.
struct input_source {
  std::string name;      // path, or "stdin"
  std::string identity;  // checkpoint identity; empty: not checkpointed
};

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

class input_reader {
 public:
  struct handoff {
    std::function<batch*()> acquire;         // nullptr: the pipeline is stopping
    std::function<batch*(int)> acquire_within;  // nullptr also when the ms ran out
    std::function<batch*()> acquire_at_stop;    // waits for a slot even while stopping
    std::function<void(batch*)> emit;        // a batch with content, in sequence order
    std::function<void(batch*)> give_back;   // a batch that stayed empty
  };

  input_reader(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints);
  virtual ~input_reader();
  input_reader(const input_reader&) = delete;
  input_reader& operator=(const input_reader&) = delete;

  // component_type in stats and metrics: "stdin", "file", "follow", ...
  virtual std::string_view type() const = 0;
  // Reads until every input has ended (or stop()); returns the number of batches emitted.
  virtual std::uint64_t run(const handoff& h) = 0;
  // Safe from any thread: stop reading at once.
  void stop();
  bool stopping() const { return stop_.load(std::memory_order_acquire); }
  // Batches emitted so far (reader thread).
  std::uint64_t emitted() const { return seq_; }
  // Inputs that could not be opened or read.
  std::uint64_t failed_inputs() const { return failed_inputs_.load(std::memory_order_relaxed); }
  // A batch was finished with (written, dropped, or its events filtered or invalid).
  // Every emitted batch must come here once, in any order and from any thread: offsets
  // are checkpointed in sequence order, so a checkpoint never passes a batch still in
  // flight (--unordered, --on-full drop).
  void finished(const batch& b);

 protected:
  // Fills and hands on one batch from `framer` (or its last line with `finish`).
  // Returns the framer's status, or nullopt when the pipeline is stopping.
  std::optional<line_framer::status> read_batch(const handoff& h, line_framer& framer, byte_stream& in,
                                                const input_source& src, bool finish = false);
  const input_source& add_source(std::string name, std::string identity);
  // Where read_batch gets its batch; blocks while the read-ahead is full.
  virtual batch* acquire(const handoff& h) { return h.acquire(); }
  void input_failed();

  const config& cfg_;
  reader_stats& stats_;
  checkpoint_store* checkpoints_;  // null without --checkpoint
  int wake_fd_ = -1;
  std::uint64_t seq_ = 0;

 private:
  // Batches finished before an earlier one, by sequence number, with what they commit.
  struct finished_batch {
    const input_source* origin = nullptr;
    std::optional<std::uint64_t> commit;  // the offset to commit, if any
    bool given_up = false;  // nothing later of this origin may be committed
  };
  std::mutex finished_mutex_;
  std::map<std::uint64_t, finished_batch> finished_early_;
  std::set<const input_source*> given_up_;  // origins whose checkpoint stays where it is
  std::uint64_t next_to_commit_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> failed_inputs_{0};
  std::deque<input_source> sources_;  // grows only (deque: elements never move)
};

// stdin and files, each read once to its end, in the order given.
class file_reader final : public input_reader {
 public:
  file_reader(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints);
  std::string_view type() const override;
  std::uint64_t run(const handoff& h) override;

 private:
  bool read_input(const std::string& path, int fd, const handoff& h);
};

}  // namespace sluice
