// The graph and its limits (DESIGN.md §1-§2):
//
//  reader thread ─► read_queue ─► L_parse ─► parse+transform (parallel) ─► order ─► L_sink ─► to_sink ─► sink thread
//   (read-ahead slots)   (queue_node) (limiter)                         (sequencer)  (limiter)  (async_node)
//
// - read-ahead: the reader takes a slot before filling a batch and gives it back when
//   the batch enters the parallel stage.
// - parse tokens (L_parse): taken when a batch enters the parallel stage and returned
//   when L_sink admits it, so a batch keeps its token while it waits in `order`. The
//   reader feeds a FIFO queue, so batches enter L_parse in sequence order and the lowest
//   outstanding batch always holds a token: no deadlock, and `order` holds at most
//   parse-tokens batches.
// - sink tokens (L_sink): returned by the sink thread when a batch is written.
// - --on-full drop: L_sink becomes a gate that never waits; a batch that finds it full
//   is dropped whole and counted, and its sequence number still passes.
// Every batch reaches every decrement (empty, invalid, filtered or dropped ones too):
// a missing one would starve a limiter.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sluice/batch.hpp"
#include "sluice/config.hpp"
#include "sluice/errors.hpp"
#include "sluice/sink.hpp"
#include "sluice/stats.hpp"

namespace sluice {

class metrics_server;

// Test seams; empty in production.
struct pipeline_hooks {
  // Called in the parallel stage for every batch, before it is parsed.
  std::function<void(const batch&)> in_parse;
};

struct run_result {
  exit_code code = exit_code::ok;
  std::string message;          // one line for stderr when code != ok
  std::uint64_t undelivered = 0;
  // The output blocked forever inside a write: threads are still running, and the
  // process must exit without destroying the pipeline.
  bool must_exit = false;
};

class pipeline {
 public:
  // Opens the outputs named by cfg unless given (tests pass their own); throws
  // startup_error when one cannot be opened.
  explicit pipeline(config cfg, std::unique_ptr<output> out = nullptr,
                    std::unique_ptr<output> dead = nullptr, pipeline_hooks hooks = {});
  ~pipeline();
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  // Reads every input, delivers, prints final stats if asked; blocks until done.
  run_result run();
  // SIGINT/SIGTERM: stop reading at once, deliver what is in flight for at most
  // --drain-timeout seconds. Safe from any thread.
  void stop();
  // SIGHUP: reopen -o and the dead-letter output before the next write.
  void reopen_outputs();

  const config& cfg() const { return cfg_; }
  // The port /metrics is served on (useful with --metrics HOST:0); 0 without --metrics.
  int metrics_port() const;
  const pipeline_stats& stats() const { return *stats_; }

 private:
  struct impl;
  config cfg_;
  std::unique_ptr<pipeline_stats> stats_;
  std::unique_ptr<impl> impl_;
  std::unique_ptr<metrics_server> metrics_;
};

}  // namespace sluice
