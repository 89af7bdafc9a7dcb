// A batch is the unit that moves through the graph: a buffer of whole lines from one
// source, its byte range, its sequence number, and what the parallel stage made of it.
// Lines and events are views into the buffer; nothing is allocated per line.
//
// Batches come from a batch_pool and go back to it once written (or dropped), so buffers
// are reused and the number alive at once is counted (DESIGN.md §2.1).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/stats.hpp"

namespace sluice {

struct input_source;  // source.hpp: where a batch's bytes come from

// simdjson reads up to 64 bytes past the end of what it parses; only the end of the
// buffer needs them, because inside a batch the following lines provide them.
inline constexpr std::size_t parse_padding = 64;

struct batch_counts {
  std::uint64_t lines = 0;     // non-empty lines seen
  std::uint64_t events = 0;    // valid objects that reached the output buffer
  std::uint64_t invalid = 0;   // not JSON, or not an object
  std::uint64_t oversize = 0;  // longer than --max-line-bytes
  std::uint64_t filtered = 0;  // events the transform removed
  std::uint64_t empty = 0;     // whitespace-only lines, skipped
};

class batch {
 public:
  enum class content : std::uint8_t {
    lines,     // whole lines, the last one maybe without '\n' (end of input)
    oversize,  // the first --max-line-bytes bytes of one oversize line
  };

  explicit batch(std::size_t capacity);

  char* data() { return buffer_.get(); }
  const char* data() const { return buffer_.get(); }
  std::size_t capacity() const { return capacity_; }
  std::string_view bytes() const { return {buffer_.get(), size}; }
  // Grows the buffer, keeping the first `keep` bytes (for a line longer than a batch).
  void grow(std::size_t new_capacity, std::size_t keep);

  // Filled by the reader.
  std::uint64_t seq = 0;
  std::uint32_t source = 0;    // index into the pipeline's source names
  std::uint64_t offset = 0;    // offset in the source of data()[0]
  std::uint64_t end_offset = 0;  // offset just past what this batch consumed (checkpoints)
  std::string_view source_name;  // for dead-letter records; owned by the reader, stable
  const input_source* origin = nullptr;  // for checkpoints; owned by the reader, stable
  bool delivered = false;  // set by the sink once written (not when abandoned)
  std::uint64_t events_written = 0;  // by the sink; fewer than counts.events when abandoned
  // Set by the sink when it gave up on events of this batch (a drain that timed out, a
  // failure): the checkpoint of its source must never pass them, even once later batches
  // are acknowledged (a sink may acknowledge out of order).
  bool given_up = false;

  // End (relative to data(), newline included) of the line of each event in `out`, so a
  // batch written only in part still moves the checkpoint past exactly what was written.
  std::vector<std::uint32_t> event_ends;
  std::size_t size = 0;        // bytes of lines in the buffer
  content kind = content::lines;
  std::uint64_t oversize_length = 0;  // whole length of the oversize line
  std::int64_t handed_at_ns = 0;      // when the reader handed it on (for blocked time)

  // Filled by the parallel stage: the output bytes (one event a line) and the
  // dead-letter bytes; capacity is kept across reuse.
  std::string out;
  std::string dead;
  batch_counts counts;
  std::int64_t parsed_at_ns = 0;

  void reset_for_reuse();

 private:
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;  // usable bytes; parse_padding more are allocated
};

// Hands out batches and takes them back. Buffers of the standard size are kept for
// reuse; a buffer grown for a long line is given back to the allocator, so a single
// 1 MiB line does not keep its memory afterwards.
class batch_pool {
 public:
  // `alive` counts the batches handed out and not yet released (DESIGN.md §2.1).
  batch_pool(std::size_t standard_capacity, token_gauge& alive);
  ~batch_pool();
  batch_pool(const batch_pool&) = delete;
  batch_pool& operator=(const batch_pool&) = delete;

  batch* acquire();
  void release(batch* b);

  std::int64_t alive() const { return alive_.in_use.load(std::memory_order_relaxed); }
  std::int64_t max_alive() const { return alive_.max_seen.load(std::memory_order_relaxed); }
  std::size_t standard_capacity() const { return standard_capacity_; }

 private:
  std::size_t standard_capacity_;
  std::mutex mutex_;
  std::vector<batch*> free_;
  token_gauge& alive_;
};

// A batch (and the graph itself, when it is built) crosses threads through the task
// queues inside Debian's libtbb, which ThreadSanitizer cannot see. These mark the
// hand-over (release by the thread that publishes, acquire by the one that takes) so TSan
// checks sluice's own accesses instead of reporting every batch as a race; they compile
// to nothing otherwise.
#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
inline void handoff_release(const void* p) { __tsan_release(const_cast<void*>(p)); }
inline void handoff_acquire(const void* p) { __tsan_acquire(const_cast<void*>(p)); }
#else
inline void handoff_release(const void*) {}
inline void handoff_acquire(const void*) {}
#endif

}  // namespace sluice
