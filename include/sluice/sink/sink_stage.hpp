// The sink stage: the rate-limited end of the graph, in front of one sink (sink.hpp).
//
// It runs on a thread of its own, so waiting for rate tokens, a slow output or a retry
// never holds a TBB worker. Batches arrive in order (push) through a queue that the sink
// tokens bound; each is cut into parts of whole events as the rate buckets allow and sent.
// Outcomes come back from any thread (report) and are handled here, once for every sink:
// - a batch is finished with (`done`, which returns its sink token) only when the outcome
//   of every part is final, so --sink-tokens bounds what is unacknowledged;
// - retry: the same part again after exponential backoff with full jitter, or after the
//   destination's Retry-After, which pauses every send; unlimited unless max_retries;
// - rejected: the part's events go to the dead-letter output with the reason, counted;
// - failed/closed: nothing more is sent; what was not acknowledged is undelivered.
// Durable points: every --checkpoint-interval while acknowledging, when idle, and at the
// end, the sink and the dead letter are made durable (fdatasync) and then `on_durable`
// runs (the checkpoint), so a checkpoint never runs ahead of the data.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sluice/batch.hpp"
#include "sluice/config.hpp"
#include "sluice/rate.hpp"
#include "sluice/sink/file_sink.hpp"
#include "sluice/sink/sink.hpp"
#include "sluice/stats.hpp"

namespace sluice {

// How the stage retries a part whose outcome was `retry` (Vector's retry policy is the model:
// full jitter, so many sluice processes do not retry in step).
struct retry_policy {
  std::chrono::nanoseconds initial_backoff = std::chrono::milliseconds(100);
  std::chrono::nanoseconds max_backoff = std::chrono::seconds(30);
  std::chrono::nanoseconds max_retry_after = std::chrono::minutes(5);  // a longer Retry-After is capped
  unsigned max_retries = 0;  // 0: unlimited (a destination that is down is backpressure)
  // The wait before attempt `attempt` (1 for the first retry): uniform in [0, min(max, initial·2^(attempt-1))].
  std::chrono::nanoseconds backoff(unsigned attempt, std::minstd_rand& rng) const;
};

// How the sink stage's run ended.
enum class sink_status {
  ok,
  closed,  // the destination went away as a normal end (stdout's reader)
  failed,  // a fatal outcome
};

class sink_stage final : private send_completion {
 public:
  // `done(b)` is called on the stage thread for every batch once its outcome is final
  // (or it was abandoned); it returns the sink token and the buffer.
  sink_stage(const config& cfg, std::unique_ptr<sink> out, std::unique_ptr<output> dead, sink_stats& stats,
             std::function<void(batch*)> done, retry_policy retry = {});
  ~sink_stage();
  sink_stage(const sink_stage&) = delete;
  sink_stage& operator=(const sink_stage&) = delete;

  void start();
  // Queues a batch (called from the graph; never blocks: sink tokens bound the queue).
  void push(batch* b);
  // No more batches will come: the thread ends once every outcome is in.
  void close();
  void join();

  // From any thread: send nothing more, give up on outstanding sends, pass batches
  // straight to `done` (drain timeout).
  void abandon();
  // From any thread (SIGHUP): reopen the outputs before the next write.
  void request_reopen();
  // Outcome, valid after join().
  sink_status status() const { return status_; }
  std::string error() const { return error_; }
  // Batches pushed and not yet done (for tests).
  std::size_t unfinished();
  // The stage thread is stuck inside a send that never returns (the drain gave up): count
  // what that send got out as written, the rest of what was read as undelivered, so the
  // final stats tell the truth. Call once, from any thread, after giving up.
  void count_stuck(std::uint64_t events_read);

  // Set to be told when the sink ends or fails (the pipeline stops reading then).
  std::function<void(sink_status)> on_stop;
  // Set to be called on the stage thread right after the outputs were made durable; false
  // (a checkpoint that could not be saved) means: try again at the next interval.
  std::function<bool()> on_durable;

 private:
  // One part of a batch: whole events [first, first + events), bytes [begin, end) of out.
  struct part {
    std::uint64_t id = 0;
    std::size_t begin = 0, end = 0;
    std::uint64_t events = 0;
    unsigned attempt = 0;
    enum class state : std::uint8_t { waiting, sent, acknowledged, rejected, lost } st = state::waiting;
    std::int64_t not_before_ns = 0;  // waiting for a retry
  };
  // A batch taken from the queue whose outcome is not final yet.
  struct open_batch {
    batch* b = nullptr;
    std::size_t cut = 0;         // bytes of b->out cut into parts so far
    std::uint64_t cut_events = 0;
    std::vector<part> parts;
  };
  struct reported {
    std::uint64_t id;
    send_outcome outcome;
  };

  void report(std::uint64_t id, send_outcome outcome) override;
  void loop();
  // Handles what the sink reported; true if anything was.
  bool take_outcomes();
  void apply(const reported& r);
  // Sends what is due: retries first, then new parts as the rate allows. Returns when the
  // next send could happen (0: nothing to wait for but outcomes or new batches).
  std::int64_t send_due(std::int64_t now);
  std::int64_t cut_next_part(open_batch& ob, std::int64_t now);
  // When the first retry waiting may be sent (a time in ns; max: none waits).
  std::int64_t earliest_retry() const;
  void send(open_batch& ob, part& p);
  void finish_ready_batches();
  // `given_up`: abandoned or after a failure, whatever its parts became.
  void finish(open_batch& ob, bool given_up = false);
  void give_up_outstanding();
  void dead_letter_rejected(const batch& b, std::string_view events, std::string_view reason, const std::string& error);
  void reopen_outputs_if_asked();
  void durable_point_if_due(bool idle);
  void fail(sink_status st, const std::string& why);
  void count_undelivered(std::uint64_t events);
  bool outstanding() const { return !open_.empty(); }

  const config& cfg_;
  std::unique_ptr<sink> out_;
  std::unique_ptr<output> dead_;
  dead_letter_format dead_format_;
  sink_stats& stats_;
  std::function<void(batch*)> done_;
  retry_policy retry_;
  std::minstd_rand rng_;
  token_bucket events_;
  token_bucket bytes_;
  std::int64_t durable_interval_ns_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<batch*> queue_;          // pushed, not taken yet
  std::vector<reported> outcomes_;    // reported, not handled yet
  std::size_t pushed_ = 0, done_count_ = 0;
  bool closed_ = false;
  std::atomic<bool> abandoned_{false};
  std::atomic<bool> reopen_{false};
  std::atomic<int> calling_{0};  // push()/report() calls not yet returned

  // Stage thread only.
  std::list<open_batch> open_;  // in the order taken (finished in any order)
  std::map<std::uint64_t, std::pair<open_batch*, std::size_t>> sent_;  // part id -> (batch, part index)
  std::uint64_t next_id_ = 1;
  std::int64_t paused_until_ns_ = 0;  // Retry-After: nothing is sent before
  bool rate_blocked_ = false;  // the next part waits for rate tokens
  std::vector<reported> handling_;
  sink_status status_ = sink_status::ok;
  std::string error_;
  std::thread thread_;
  std::uint64_t since_durable_ = 0;  // batches finished since the last durable point
  std::int64_t last_durable_ns_ = 0;
};

}  // namespace sluice
