// The sink interface (DESIGN.md §8): where events go. stdout and files now (file_sink.hpp);
// an HTTP service or Kafka later, each one header, one source file and one registry line.
//
// What every sink promises:
// - send() is called on the sink stage's thread, in input order, with one part of a batch:
//   whole events, one a line. It may block until done (a file) or return at once and
//   answer later (a server).
// - For every send, exactly one outcome is reported with report(), from any thread, inside
//   send() or later:
//     acknowledged  the destination has every event of the part (written; a 2xx; a delivery report)
//     retry         transient (408, 429, 5xx, a broker down): the stage sends the same bytes
//                   again after its backoff, or after `retry_after` (a server's Retry-After),
//                   which pauses the whole sink
//     rejected      permanent for these events: the stage dead-letters them with the reason,
//                   counts them, and they are finished with
//     failed        fatal: sluice stops reading and exits 1
//     closed        the destination went away as a normal end (stdout's reader left: `| head`)
// - The bytes of a send stay valid until its outcome is reported, and no longer. After
//   stop() returns, a sink reports nothing more and touches no bytes it was given.
// Retry policy, rate limits, ordering, token accounting and durable points are the
// stage's (sink_stage.hpp), done once for every sink.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

struct send_outcome {
  enum class kind : std::uint8_t { acknowledged, retry, rejected, failed, closed };
  kind what = kind::acknowledged;
  // retry: how long the destination asked to wait; negative: the stage's own backoff.
  std::chrono::nanoseconds retry_after{-1};
  std::string reason;  // one line: why (retry, rejected, failed)

  static send_outcome acknowledged() { return {}; }
  static send_outcome retry(std::string why, std::chrono::nanoseconds after = std::chrono::nanoseconds(-1)) {
    return {kind::retry, after, std::move(why)};
  }
  static send_outcome rejected(std::string why) { return {kind::rejected, std::chrono::nanoseconds(-1), std::move(why)}; }
  static send_outcome failed(std::string why) { return {kind::failed, std::chrono::nanoseconds(-1), std::move(why)}; }
  static send_outcome closed() { return {kind::closed, std::chrono::nanoseconds(-1), {}}; }
};

// One part of a batch handed to a sink.
struct send_request {
  std::uint64_t id = 0;    // names the send in report()
  std::string_view bytes;  // whole events, each ending in '\n'
  std::uint64_t events = 0;
  unsigned attempt = 0;    // 0 the first time, then one more per retry
};

// Where outcomes go: the stage. Thread-safe.
class send_completion {
 public:
  virtual void report(std::uint64_t id, send_outcome outcome) = 0;

 protected:
  ~send_completion() = default;
};

class sink {
 public:
  virtual ~sink() = default;

  // Called once by the stage before the first send.
  void bind(send_completion& completion) { completion_ = &completion; }

  virtual void send(const send_request& r) = 0;
  // SIGHUP: reopen by path (logrotate of sluice's own output). Stage thread.
  virtual void reopen() {}
  // Makes what was acknowledged durable (fdatasync) before the checkpoint saves. Stage thread.
  virtual void sync() {}
  // The drain timed out, or the run failed: give up on sends still outstanding (their
  // events count as undelivered). Stage thread.
  virtual void stop() {}
  // component_type in stats and metrics: "file", "stdout", "http", ...
  virtual std::string_view type() const = 0;
  // For messages: the path or address.
  virtual std::string describe() const = 0;
  // Any thread: events of the send now inside send() that already reached the
  // destination (a write blocked part-way). Only asked when send() never returns.
  virtual std::uint64_t events_out_of_send_in_progress() const { return 0; }

 protected:
  void report(std::uint64_t id, send_outcome outcome) { completion_->report(id, std::move(outcome)); }

 private:
  send_completion* completion_ = nullptr;
};

}  // namespace sluice
