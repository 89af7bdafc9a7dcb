// Per-stage counters (DESIGN.md §5). Stages update relaxed atomics per batch (never per
// line); a reporter thread reads them for --stats, so observing costs the hot path
// nothing but the counts it keeps anyway.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace sluice {

// A count of tokens in use with the highest value it reached.
struct token_gauge {
  std::atomic<std::int64_t> in_use{0};
  std::atomic<std::int64_t> max_seen{0};
  std::int64_t limit = 0;

  void add(std::int64_t n = 1) {
    auto now = in_use.fetch_add(n, std::memory_order_relaxed) + n;
    auto seen = max_seen.load(std::memory_order_relaxed);
    while (now > seen && !max_seen.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
  }
  void sub(std::int64_t n = 1) { in_use.fetch_sub(n, std::memory_order_relaxed); }
};

using counter = std::atomic<std::uint64_t>;

inline void bump(counter& c, std::uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }

// Time spent waiting, a wait still in progress included: a reader stalled for a minute
// must show it while it is stalled, not only once it resumes. One thread waits; any
// thread may read.
class wait_time {
 public:
  void begin(std::int64_t now) { since_.store(now, std::memory_order_relaxed); }
  void end(std::int64_t now) {
    const auto since = since_.load(std::memory_order_relaxed);
    done_.fetch_add(static_cast<std::uint64_t>(now - since), std::memory_order_relaxed);
    since_.store(0, std::memory_order_relaxed);
  }
  bool waiting() const { return since_.load(std::memory_order_relaxed) != 0; }
  // Never less than a value returned before, even while end() is half done.
  std::uint64_t total_ns(std::int64_t now) const {
    const auto since = since_.load(std::memory_order_relaxed);
    std::uint64_t t = done_.load(std::memory_order_relaxed);
    if (since != 0 && now > since) t += static_cast<std::uint64_t>(now - since);
    auto seen = reported_.load(std::memory_order_relaxed);
    while (t > seen && !reported_.compare_exchange_weak(seen, t, std::memory_order_relaxed)) {
    }
    return std::max(t, seen);
  }

 private:
  std::atomic<std::int64_t> since_{0};
  std::atomic<std::uint64_t> done_{0};
  mutable std::atomic<std::uint64_t> reported_{0};
};

struct reader_stats {
  counter bytes_in{0};
  counter batches_out{0};
  counter inputs_failed{0};
  counter open_deferred{0};  // -F: files that had to wait for a file descriptor
  wait_time blocked;  // waiting for a read-ahead slot
  token_gauge read_ahead;
};

struct parse_stats {
  counter batches_in{0};
  counter bytes_in{0};
  counter lines_in{0};
  counter events_out{0};
  counter bytes_out{0};
  counter invalid{0};
  counter oversize{0};
  counter empty{0};
  counter filtered{0};
  counter blocked_ns{0};  // batches waiting for a parse token
  token_gauge tokens;
};

struct sink_stats {
  counter batches_in{0};
  counter events_in{0};
  counter events_out{0};
  counter bytes_out{0};
  counter dead_letter_lines{0};
  counter dropped_events{0};
  counter dropped_bytes{0};
  counter dropped_batches{0};
  counter undelivered_events{0};  // abandoned at shutdown or after a write failure
  counter blocked_ns{0};          // batches waiting for a sink token
  wait_time rate_wait;             // waiting for rate tokens
  counter write_ns{0};            // inside write()
  token_gauge tokens;
  double rate = 0;        // configured, events/s (0: unlimited)
  double rate_bytes = 0;  // configured, bytes/s (0: unlimited)
  // Progress, for /healthz and the current rate: updated by the sink thread per write.
  std::atomic<std::int64_t> last_progress_ns{0};  // a batch taken or events written
  std::atomic<double> current_rate{0};  // events/s over the last second or so
  std::atomic<std::int64_t> window_events_published_ns{0};
  std::int64_t window_start_ns = 0;     // sink thread only
  std::uint64_t window_events = 0;      // sink thread only

  // Called by the sink thread after each write.
  void wrote(std::uint64_t events, std::int64_t now);
  // Events/s now: 0 when nothing was written for two seconds.
  double rate_now(std::int64_t now) const;
};

struct pipeline_stats {
  reader_stats reader;
  parse_stats parse;
  sink_stats sink;
  token_gauge batches_alive;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  // One JSON object, no newline. `kind` is "interval" or "final".
  std::string to_json(const char* kind) const;
  // The same figures in the Prometheus text exposition format (version 0.0.4).
  std::string to_prometheus() const;
  // The stage that holds everything up right now: "output" (sink tokens all taken),
  // "parse" (parse tokens all taken), "input" (the reader waits for data), or "none".
  const char* bottleneck() const;
};

std::int64_t now_ns();

}  // namespace sluice
