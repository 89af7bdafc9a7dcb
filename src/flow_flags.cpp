// Flow control's flags (DESIGN.md §2): the three bounds, the batch size, what a full sink
// does, the memory the budget must fit in, and how long a drain may take.
#include <fmt/format.h>

#include "sluice/cli.hpp"
#include "sluice/errors.hpp"
#include "sluice/flags.hpp"

namespace sluice {

void add_flow_flags(flag_set& flags) {
  const char* group = "Flow control";
  flags.push_back({.name = "--batch-bytes",
                   .value_name = "SIZE",
                   .default_text = "256KiB",
                   .help = "Largest batch",
                   .group = group,
                   .example = "64K",
                   .apply = [](const std::string& v, config& c) {
                     c.batch_bytes = bounded_size("--batch-bytes", v, max_buffer_bytes);
                     if (c.batch_bytes < 64) throw usage_error("--batch-bytes: must be at least 64");
                   }});
  flags.push_back({.name = "--read-ahead",
                   .value_name = "N",
                   .default_text = "4",
                   .help = "Batches read, waiting for parse",
                   .group = group,
                   .example = "7",
                   .apply = [](const std::string& v, config& c) {
                     c.read_ahead = parse_count("--read-ahead", v, max_tokens);
                   }});
  flags.push_back({.name = "--parse-tokens",
                   .value_name = "N",
                   .help = "Batches in parse or waiting in order (default 2 x threads)",
                   .group = group,
                   .example = "5",
                   .apply = [](const std::string& v, config& c) {
                     c.parse_tokens = parse_count("--parse-tokens", v, max_tokens);
                   }});
  flags.push_back({.name = "--sink-tokens",
                   .value_name = "N",
                   .default_text = "4",
                   .help = "Batches queued for the sink",
                   .group = group,
                   .example = "3",
                   .apply = [](const std::string& v, config& c) {
                     c.sink_tokens = parse_count("--sink-tokens", v, max_tokens);
                   }});
  flags.push_back({.name = "--on-full",
                   .value_name = "block|drop",
                   .default_text = "block",
                   .help = "block: stop reading when the sink is full; drop: drop and count",
                   .group = group,
                   .choices = {"block", "drop"},
                   .example = "drop",
                   .apply = [](const std::string& v, config& c) {
                     c.on_full = v == "drop" ? on_full_policy::drop : on_full_policy::block;
                   }});
  flags.push_back({.name = "--memory-limit",
                   .value_name = "SIZE",
                   .help = "The memory the budget must fit in (default: physical memory, or the cgroup's memory.max)",
                   .group = group,
                   .example = "1G",
                   .apply = [](const std::string& v, config& c) {
                     c.memory_limit = parse_size("--memory-limit", v);
                   }});
  flags.push_back({.name = "--drain-timeout",
                   .value_name = "DURATION",
                   .default_text = "5",
                   .help = "On SIGINT/SIGTERM, deliver in-flight events for at most this long",
                   .group = group,
                   .example = "1.5s",
                   .apply = [](const std::string& v, config& c) {
                     c.drain_timeout_s = parse_duration("--drain-timeout", v, 0, max_duration_s);
                   }});
}

}  // namespace sluice
