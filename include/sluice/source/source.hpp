// The source interface (DESIGN.md §8): where batches come from. stdin and files read
// once (source/file.hpp), files followed as they grow and rotate (source/follow.hpp);
// Kafka later, each one header, one source file and one registry line.
//
// What every source promises:
// - run() is called once, on a thread of its own (never a TBB worker: reading blocks, and
//   must not take a parser's core while it waits), and returns when its inputs ended or
//   stop() was called.
// - It gets every batch from the emitter before filling it (acquire, which blocks while
//   the read-ahead is full: this is where backpressure stops the reading) and hands it on
//   through the emitter (emit), which numbers, counts and queues it, once for every source.
// - finished() is called once for every emitted batch, from any thread and in any order,
//   when the batch is finished with (acknowledged, rejected into the dead letter, filtered,
//   invalid, dropped and counted, or given up on: batch::given_up). A source commits its
//   positions (its own type: a file's identity and offset; a Kafka partition's offset)
//   only in its input order: never past a batch still in flight or given up on.
// - An input that cannot be opened or read is reported, counted (input_failed), and the
//   source goes on with the others.
// The base class does the common work once: framing a byte stream into batches, the
// checkpoint of file offsets in sequence order, the wake-up that stop() sends.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
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

// What a source fills and emits batches through: the pipeline's read-ahead slots, the
// batch pool, the sequence numbers, the counts and the hand-off to the graph. One thread
// (the source's) calls it.
class emitter {
 public:
  virtual batch* acquire() = 0;                 // nullptr: the pipeline is stopping
  virtual batch* acquire_within(int ms) = 0;    // nullptr also when the ms ran out
  virtual batch* acquire_at_stop() = 0;         // waits for a slot even while stopping
  virtual void emit(batch* b) = 0;              // a batch with content: numbered in order, handed on
  virtual void give_back(batch* b) = 0;         // a batch that stayed empty
  virtual std::uint64_t emitted() const = 0;    // batches emitted so far

 protected:
  ~emitter() = default;
};

class source {
 public:
  source(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints);
  virtual ~source();
  source(const source&) = delete;
  source& operator=(const source&) = delete;

  // component_type in stats and metrics: "stdin", "file", "follow", ...
  virtual std::string_view type() const = 0;
  // Reads until every input has ended (or stop()).
  virtual void run(emitter& h) = 0;
  // Safe from any thread: stop reading at once.
  void stop();
  bool stopping() const { return stop_.load(std::memory_order_acquire); }
  // Inputs that could not be opened or read.
  std::uint64_t failed_inputs() const { return failed_inputs_.load(std::memory_order_relaxed); }
  // A batch was finished with (see the contract above). The base commits file offsets in
  // sequence order, so a checkpoint never passes a batch still in flight (--unordered,
  // --on-full drop, a sink that acknowledges out of order); a source whose positions are
  // of another kind (per partition) overrides it.
  virtual void finished(const batch& b);

 protected:
  // Fills and hands on one batch from `framer` (or its last line with `finish`).
  // Returns the framer's status, or nullopt when the pipeline is stopping.
  std::optional<line_framer::status> read_batch(emitter& h, line_framer& framer, byte_stream& in,
                                                const input_source& src, bool finish = false);
  const input_source& add_source(std::string name, std::string identity);
  // Where read_batch gets its batch; blocks while the read-ahead is full.
  virtual batch* acquire(emitter& h) { return h.acquire(); }
  void input_failed();

  const config& cfg_;
  reader_stats& stats_;
  checkpoint_store* checkpoints_;  // null without --checkpoint
  int wake_fd_ = -1;

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

}  // namespace sluice
