// Per-stage counters (DESIGN.md §5). Stages update relaxed atomics per batch (never per
// line); a reporter thread reads them for --stats, so observing costs the hot path
// nothing but the counts it keeps anyway.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// What every component (source, transform, sink) counts, the same way (Vector's
// component specification is the model): received and sent events and bytes, discarded
// events by reason, errors by type, under an id, a kind and a type. --stats and /metrics
// render every component from this one type. Reasons and error types are named when the
// component is built, before any thread counts, so counting never allocates or locks.
struct component_counters {
  struct named_count {
    std::string_view name;
    counter n{0};
  };
  static constexpr std::size_t max_names = 8;

  component_counters(std::string_view id, std::string_view kind, std::vector<std::string_view> discard_reasons,
                     std::vector<std::string_view> error_types);
  component_counters(const component_counters&) = delete;
  component_counters& operator=(const component_counters&) = delete;

  std::string id;    // "in", "parse", "out"
  std::string kind;  // "source", "transform", "sink"
  std::string type;  // "file", "follow", "stdin", "json", "stdout", "http", ... (set when built)
  counter received_events{0};
  counter received_bytes{0};
  counter sent_events{0};
  counter sent_bytes{0};

  // The counter of a reason or type named at construction (anything else is a bug: it
  // throws std::out_of_range at the first use, which tests catch).
  counter& discarded(std::string_view reason) { return find(discarded_, discarded_n_, reason); }
  counter& errors(std::string_view type) { return find(errors_, errors_n_, type); }
  const counter& discarded(std::string_view reason) const { return const_cast<component_counters*>(this)->discarded(reason); }
  const counter& errors(std::string_view type) const { return const_cast<component_counters*>(this)->errors(type); }
  template <class F>
  void each_discarded(F f) const {
    for (std::size_t i = 0; i < discarded_n_; ++i) f(discarded_[i].name, discarded_[i].n.load(std::memory_order_relaxed));
  }
  template <class F>
  void each_error(F f) const {
    for (std::size_t i = 0; i < errors_n_; ++i) f(errors_[i].name, errors_[i].n.load(std::memory_order_relaxed));
  }

 private:
  static counter& find(std::array<named_count, max_names>& in, std::size_t n, std::string_view name);
  std::array<named_count, max_names> discarded_;
  std::array<named_count, max_names> errors_;
  std::size_t discarded_n_ = 0;
  std::size_t errors_n_ = 0;
};

struct reader_stats {
  component_counters component{"in", "source", {}, {"input_failed"}};
  counter bytes_in{0};
  counter batches_out{0};
  counter inputs_failed{0};
  counter open_deferred{0};  // -F: files that had to wait for a file descriptor
  wait_time blocked;  // waiting for a read-ahead slot
  token_gauge read_ahead;
};

struct parse_stats {
  component_counters component{"parse", "transform", {"invalid", "oversize", "filtered"}, {}};
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
  component_counters component{"out", "sink", {"dropped", "rejected", "undelivered"}, {"retry", "failed"}};
  counter batches_in{0};
  counter events_in{0};
  counter events_out{0};
  counter bytes_out{0};
  counter dead_letter_lines{0};
  counter dropped_events{0};
  counter dropped_bytes{0};
  counter dropped_batches{0};
  counter undelivered_events{0};  // abandoned at shutdown or after a write failure
  counter rejected_events{0};     // the destination refused them for good: dead-lettered
  counter retries{0};             // sends the destination asked to repeat
  counter blocked_ns{0};          // batches waiting for a sink token
  wait_time rate_wait;             // waiting for rate tokens
  counter write_ns{0};            // inside the sink's send()
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

  // Every component, in pipeline order.
  std::vector<const component_counters*> components() const {
    return {&reader.component, &parse.component, &sink.component};
  }

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
