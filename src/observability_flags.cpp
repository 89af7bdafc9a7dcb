// Observability's flags (DESIGN.md §5): stats, /metrics and /healthz, the progress line
// and the log level.
#include "sluice/cli.hpp"
#include "sluice/flags.hpp"
#include "sluice/metrics.hpp"

namespace sluice {

void add_observability_flags(flag_set& flags) {
  const char* group = "Observability";
  // The value needs '=' (DESIGN.md §3): `--stats app.log` is stats at exit, reading app.log.
  flags.push_back({.name = "--stats",
                   .kind = flag_kind::optional,
                   .value_name = "DURATION",
                   .help = "per-stage counters as JSON lines at exit (and every DURATION)",
                   .group = group,
                   .example = "5s",
                   .apply = [](const std::string& v, config& c) {
                     c.stats = true;
                     if (!v.empty()) c.stats_interval_s = parse_duration("--stats", v, min_interval_s, max_duration_s);
                   }});
  flags.push_back({.name = "--stats-file",
                   .value_name = "PATH",
                   .help = "Where --stats goes (default stderr; implies --stats)",
                   .group = group,
                   .example = "stats.ndjson",
                   .apply = [](const std::string& v, config& c) { c.stats_file = v; }});
  flags.push_back({.name = "--metrics",
                   .value_name = "[HOST:]PORT",
                   .help = "Serve Prometheus /metrics and /healthz on [HOST:]PORT (a bare port binds 127.0.0.1)",
                   .group = group,
                   .example = "127.0.0.1:9100",
                   .apply = [](const std::string& v, config& c) {
                     const auto addr = parse_listen_address(v);
                     c.metrics_host = addr.host;
                     c.metrics_port = addr.port;
                   }});
  flags.push_back({.name = "--stall-timeout",
                   .value_name = "DURATION",
                   .default_text = "30",
                   .help = "/healthz answers 503 after this long without sink progress",
                   .group = group,
                   .example = "1m",
                   .apply = [](const std::string& v, config& c) {
                     c.stall_timeout_s = parse_duration("--stall-timeout", v, min_interval_s, max_duration_s);
                   }});
  flags.push_back({.name = "--no-progress",
                   .kind = flag_kind::boolean,
                   .help = "No progress line on a terminal (shown when reading files)",
                   .group = group,
                   .apply = [](const std::string&, config& c) { c.progress = false; }});
  flags.push_back({.name = "--log-level",
                   .value_name = "LEVEL",
                   .default_text = "warn",
                   .help = "trace|debug|info|warn|error|off",
                   .group = group,
                   .choices = {"trace", "debug", "info", "warn", "error", "off"},
                   .example = "debug",
                   .apply = [](const std::string& v, config& c) { c.log_level = v; }});
}

}  // namespace sluice
