// The graph and its limits (DESIGN.md §1-§2):
//
//  source thread ─► read_queue ─► L_parse ─► parse+transform (parallel) ─► order ─► L_sink ─► to_sink ─► sink stage
//   (read-ahead slots)   (queue_node) (limiter)                         (sequencer)  (limiter)  (async_node)  (its thread)
//
// - read-ahead: the reader takes a slot before filling a batch and gives it back when
//   the batch enters the parallel stage.
// - parse tokens (L_parse): taken when a batch enters the parallel stage and returned
//   when L_sink admits it, so a batch keeps its token while it waits in `order`. The
//   reader feeds a FIFO queue, so batches enter L_parse in sequence order and the lowest
//   outstanding batch always holds a token: no deadlock, and `order` holds at most
//   parse-tokens batches.
// - sink tokens (L_sink): returned by the sink stage when a batch's outcome is final
//   (acknowledged, rejected, or given up on), so they bound what is unacknowledged.
// - --on-full drop: L_sink becomes a gate that never waits; a batch that finds it full
//   is dropped whole and counted, and its sequence number still passes.
// Every batch reaches every decrement (empty, invalid, filtered or dropped ones too):
// a missing one would starve a limiter.
// The graph gets its source, sink and checkpoint store built (app.hpp is the composition
// root that builds them from the configuration); it knows none of them by name.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sluice/batch.hpp"
#include "sluice/config.hpp"
#include "sluice/sink/file_sink.hpp"
#include "sluice/sink/sink.hpp"
#include "sluice/sink/sink_stage.hpp"
#include "sluice/stats.hpp"

namespace sluice {

class source;
class checkpoint_store;

// Test seams; empty in production.
struct pipeline_hooks {
  // Called in the parallel stage for every batch, before it is parsed.
  std::function<void(const batch&)> in_parse;
  // The sink stage's retry policy (tests shorten the backoff).
  retry_policy retry;
};

// What the graph is made of, built by the app.
struct pipeline_parts {
  std::unique_ptr<source> in;
  std::unique_ptr<sink> out;
  std::unique_ptr<output> dead;        // null: invalid lines are only counted
  checkpoint_store* checkpoints = nullptr;  // null without --checkpoint; saved at durable points
};

struct pipeline_result {
  sink_status status = sink_status::ok;
  std::string error;            // the sink's, when status is failed
  bool drain_timed_out = false;
  // The output blocked forever inside a write: threads are still running, and the
  // process must exit without destroying the pipeline.
  bool stuck = false;
  std::uint64_t failed_inputs = 0;
};

class pipeline {
 public:
  pipeline(const config& cfg, pipeline_stats& stats, pipeline_parts parts, pipeline_hooks hooks = {});
  ~pipeline();
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  // Reads every input and delivers; blocks until done (or the drain gave up).
  pipeline_result run();
  // SIGINT/SIGTERM: stop reading at once, deliver what is in flight for at most
  // --drain-timeout seconds. Safe from any thread.
  void stop();
  // SIGHUP: reopen -o and the dead-letter output before the next write.
  void reopen_outputs();
  // After run() returned `stuck`: count what the blocked send got out, and the rest as
  // undelivered (the stats then agree with what the caller says).
  void count_stuck();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sluice
