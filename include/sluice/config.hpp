// The one configuration object every stage derives its limits from (DESIGN.md §2.6):
// pipe size, read size, batch size and token counts all come from here, so no layer can
// buffer more than the budget that `memory_budget()` states.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice {

enum class on_full_policy { block, drop };
enum class dead_letter_format { raw, json };
enum class output_format { json, logfmt };

struct config {
  // Input. Empty, or "-", means stdin.
  std::vector<std::string> inputs;
  std::size_t max_line_bytes = std::size_t{1} << 20;
  bool follow = false;            // -F: inputs are paths or globs followed as they grow
  bool from_start = false;        // files present at the first start begin at 0
  unsigned poll_ms = 0;           // --poll=MS: poll instead of inotify (0: inotify)
  std::size_t max_open_files = 256;  // followed files held open when idle (at least 1)
  std::string checkpoint;         // --checkpoint PATH; empty: none
  bool reset_checkpoint = false;  // an unreadable checkpoint is ignored, not fatal
  // --checkpoint-interval: output fdatasync'ed and checkpoint saved this often while
  // writing (what a kill -9 delivers again is at most about this much).
  double checkpoint_interval_s = 1.0;

  // Processing.
  std::string where;   // --where expression; empty: keep every event
  std::string select;  // --select list; empty: not given
  std::string drop;    // --drop list; empty: not given
  unsigned parse_threads = 0;  // 0: hardware threads
  bool unordered = false;

  // Flow control.
  std::size_t batch_bytes = std::size_t{256} << 10;
  std::size_t read_ahead = 4;
  std::size_t parse_tokens = 0;  // 0: 2 x parse_threads
  std::size_t sink_tokens = 4;
  double rate = 0;        // events per second; 0: unlimited
  double rate_bytes = 0;  // bytes per second; 0: unlimited
  std::optional<double> burst;  // events; default 100 ms of rate, at least 1
  std::optional<double> burst_bytes;  // --burst-bytes; default max(100 ms of rate, max line)
  on_full_policy on_full = on_full_policy::block;
  double drain_timeout_s = 5;
  // --memory-limit: what memory_budget() must fit in; 0: the machine's (memory_available()).
  std::size_t memory_limit = 0;

  // Output.
  std::string output = "-";
  output_format format = output_format::json;
  std::string dead_letter;  // empty: invalid lines are only counted
  dead_letter_format dead_letter_fmt = dead_letter_format::raw;

  // Observability.
  bool stats = false;
  double stats_interval_s = 0;  // 0: only at exit
  std::string stats_file;       // empty: stderr
  bool progress = true;
  std::string metrics_host;      // --metrics; empty: no endpoint
  int metrics_port = 0;
  double stall_timeout_s = 30;   // /healthz: no sink progress this long with work queued
  std::string log_level = "warn";

  // Every field: a --config file and the same flags give equal configs (cli_test.cpp).
  bool operator==(const config&) const = default;

  // Fills the defaults that depend on the machine (threads, parse tokens).
  void resolve_defaults();

  // Capacity of a pooled batch buffer; a longer line gets a buffer of its own, at most
  // max_line_bytes + 2 (+1 tells "exactly at the limit" from "over it", +1 more for the
  // '\r' of a CRLF line at the limit, which does not count against it).
  std::size_t largest_buffer_bytes() const;
  // DESIGN.md §2.1: read-ahead + parse tokens + sink tokens, +1 for the batch the reader
  // is filling while it waits.
  std::size_t max_batches_alive() const;
  // Size asked of the kernel for an input pipe: enough to keep the reader busy while
  // a batch is cut, never more than the read-ahead it feeds.
  std::size_t pipe_bytes() const;
  // DESIGN.md §2.2: the most memory the pipeline may hold, excluding the fixed overhead.
  std::size_t memory_budget() const;
  // Event and byte buckets: resolved burst sizes. The byte burst defaults to at least
  // max_line_bytes, so a full bucket lets that much through at once (--burst-bytes sets it).
  double event_burst() const;
  double byte_burst() const;
};

// The memory sluice may use: physical memory, or the cgroup's limit when lower (v2
// memory.max, v1 memory.limit_in_bytes, the lowest on the way up). `what` says which.
std::size_t memory_available(std::string* what = nullptr);
// The cgroup limit of this process, read from `root` (/sys/fs/cgroup) after the
// paths in `proc_cgroup` (/proc/self/cgroup); nullopt when none is set. For tests.
std::optional<std::size_t> cgroup_memory_limit(const std::string& root, const std::string& proc_cgroup);

}  // namespace sluice
