// The composition root: builds every component from the configuration (the source and
// the sink through the registry, the checkpoint store, the dead-letter output, stats,
// /metrics, the progress line), runs the graph (flow.hpp), drains it, and turns the
// outcome into an exit code and one line for stderr (DESIGN.md §4). main only wires the
// command line and signals to this.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sluice/config.hpp"
#include "sluice/errors.hpp"
#include "sluice/flow.hpp"
#include "sluice/source/source.hpp"
#include "sluice/stats.hpp"

namespace sluice {

class checkpoint_store;
class metrics_server;

struct run_result {
  exit_code code = exit_code::ok;
  std::string message;          // one line for stderr when code != ok
  std::uint64_t undelivered = 0;
  // The output blocked forever inside a write: threads are still running, and the
  // process must exit without destroying the app.
  bool must_exit = false;
};

// What tests put in place of what the configuration names.
struct app_overrides {
  std::unique_ptr<sink> out;      // instead of -o
  std::unique_ptr<output> dead;   // instead of --dead-letter
  pipeline_hooks hooks;
  // Instead of the inputs: builds the source, counting into the app's reader stats.
  std::function<std::unique_ptr<source>(const config&, reader_stats&)> in;
};

class app {
 public:
  // Builds everything; throws startup_error when an output, the checkpoint or the
  // metrics address cannot be opened, usage_error for an address no component takes.
  explicit app(config cfg, app_overrides overrides = {});
  ~app();
  app(const app&) = delete;
  app& operator=(const app&) = delete;

  // Reads every input, delivers, prints final stats if asked; blocks until done.
  run_result run();
  // SIGINT/SIGTERM (any thread): stop reading, drain for at most --drain-timeout.
  void stop();
  // SIGHUP (any thread): reopen -o and the dead-letter output.
  void reopen_outputs();

  const config& cfg() const { return cfg_; }
  const pipeline_stats& stats() const { return *stats_; }
  // The port /metrics is served on (useful with --metrics HOST:0); 0 without --metrics.
  int metrics_port() const;

 private:
  config cfg_;
  std::unique_ptr<pipeline_stats> stats_;
  std::unique_ptr<checkpoint_store> checkpoints_;
  std::unique_ptr<pipeline> pipeline_;
  std::unique_ptr<metrics_server> metrics_;
};

}  // namespace sluice
