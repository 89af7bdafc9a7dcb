// Outputs. `output` is the small interface every sink implements (stdout and files now;
// HTTP, Kafka later): write_some() and, optionally, reopen()/sync(). The base does the
// common work once: it loops over partial writes, retries EINTR, and maps errors to a
// status, so a new output is a few lines (as spdlog's base_sink does for its sinks).
//
// `sink_stage` is the rate-limited writer at the end of the graph. It runs on a thread
// of its own, so waiting for rate tokens or for a slow output never holds a TBB worker.
// Batches arrive in order through a queue whose length the sink tokens bound.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "sluice/batch.hpp"
#include "sluice/config.hpp"
#include "sluice/rate.hpp"
#include "sluice/stats.hpp"

namespace sluice {

enum class write_status {
  ok,
  closed,  // the reader went away (EPIPE on stdout): a normal end
  failed,  // anything else (a full disk, EPIPE on a file or other output)
};

class output {
 public:
  virtual ~output() = default;
  write_status write(std::string_view bytes);
  // Reopens by path (SIGHUP, for logrotate of sluice's own output). Default: nothing.
  virtual void reopen() {}
  // Makes what was written durable (fsync/fdatasync). Default: nothing.
  virtual void sync() {}
  const std::string& error() const { return error_; }

 protected:
  // Returns bytes written or -1 with errno set.
  virtual long write_some(const char* data, std::size_t n) = 0;
  // Whether an EPIPE from this output is a normal end (stdout only).
  virtual bool broken_pipe_is_end() const { return false; }
  virtual std::string describe() const = 0;

 private:
  std::string error_;
};

// stdout ("-") or a file opened for appending (created 0644 if missing).
class fd_output final : public output {
 public:
  explicit fd_output(std::string path);  // throws startup_error
  ~fd_output() override;
  void reopen() override;
  void sync() override;

 protected:
  long write_some(const char* data, std::size_t n) override;
  bool broken_pipe_is_end() const override { return is_stdout_; }
  std::string describe() const override;

 private:
  std::string path_;
  int fd_ = -1;
  bool is_stdout_ = false;
};

std::unique_ptr<output> open_output(const std::string& path);

class sink_stage {
 public:
  // `done(b, written)` is called on the sink thread for every batch after it is written
  // (or abandoned); it returns the sink token and the buffer.
  sink_stage(const config& cfg, std::unique_ptr<output> out, std::unique_ptr<output> dead,
             sink_stats& stats, std::function<void(batch*)> done);
  ~sink_stage();
  sink_stage(const sink_stage&) = delete;
  sink_stage& operator=(const sink_stage&) = delete;

  void start();
  // Queues a batch (called from the graph; never blocks: sink tokens bound the queue).
  void push(batch* b);
  // No more batches will come: the thread ends once the queue is empty.
  void close();
  void join();

  // From any thread: write nothing more, pass batches straight to `done` (drain timeout).
  void abandon();
  // From any thread (SIGHUP): reopen the outputs before the next write.
  void request_reopen();
  // Outcome, valid after join().
  write_status status() const { return status_; }
  std::string error() const { return error_; }
  // The queue length now (for tests).
  std::size_t queued();

  // Set to be told when the output ends or fails (the pipeline stops reading then).
  std::function<void(write_status)> on_stop;
  // Set to be called on the sink thread right after the outputs were made durable
  // (fdatasync), every --checkpoint-interval while writing and at the end: the checkpoint.
  std::function<void()> on_durable;
  const std::int64_t durable_interval_ns;

 private:
  void loop();
  void write_batch(batch& b);
  // True when every event was written.
  bool write_events(std::string_view bytes, std::uint64_t events);
  // Writes whole events and counts them; on failure counts `at_stake` as undelivered.
  bool write_chunk(std::string_view chunk, std::uint64_t events, std::uint64_t at_stake);
  // Waits up to ns for the rate buckets; returns early when abandoned.
  void wait_for(std::int64_t ns);
  void reopen_outputs_if_asked();
  void durable_point_if_due(bool idle);
  void finish_with_failure(write_status st, const std::string& why);

  std::unique_ptr<output> out_;
  std::unique_ptr<output> dead_;
  sink_stats& stats_;
  std::function<void(batch*)> done_;
  token_bucket events_;
  token_bucket bytes_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<batch*> queue_;
  bool closed_ = false;
  std::atomic<bool> abandoned_{false};
  std::atomic<bool> reopen_{false};
  std::atomic<int> pushing_{0};  // push() calls not yet returned
  write_status status_ = write_status::ok;
  std::string error_;
  std::thread thread_;
  std::uint64_t since_durable_ = 0;  // batches delivered since the last durable point
  std::int64_t last_durable_ns_ = 0;
};

}  // namespace sluice
