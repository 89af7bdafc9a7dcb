// The sink stage's flags (DESIGN.md §1, §2.5): the rate limits and their bursts, the
// output, and the dead letter.
#include <fmt/format.h>

#include "sluice/cli.hpp"
#include "sluice/errors.hpp"
#include "sluice/flags.hpp"

namespace sluice {

void add_sink_flags(flag_set& flags) {
  const char* fc = "Flow control";
  flags.push_back({.name = "--rate",
                   .value_name = "N[/s|/m|/h]",
                   .help = "Events per unit of time at the sink: N[/s|/m|/h] (default unlimited)",
                   .group = fc,
                   .example = "5000/s",
                   .apply = [](const std::string& v, config& c) { c.rate = parse_rate("--rate", v, false); }});
  flags.push_back({.name = "--rate-bytes",
                   .value_name = "SIZE[/s]",
                   .help = "Bytes per second at the sink: SIZE[/s]",
                   .group = fc,
                   .example = "2M/s",
                   .apply = [](const std::string& v, config& c) {
                     c.rate_bytes = parse_rate("--rate-bytes", v, true);
                   }});
  flags.push_back({.name = "--burst",
                   .value_name = "N",
                   .help = "Events the bucket may send at once (default 100 ms of rate)",
                   .group = fc,
                   .example = "50",
                   .apply = [](const std::string& v, config& c) {
                     const double b = parse_number("--burst", v);
                     if (b < 1 || b > max_rate_events)
                       throw usage_error(fmt::format("--burst: must be 1 to {:g}, got '{}'", max_rate_events, v));
                     c.burst = b;
                   }});
  flags.push_back({.name = "--burst-bytes",
                   .value_name = "SIZE",
                   .help = "Bytes the byte bucket may send at once (default: 100 ms of rate, at least --max-line-bytes)",
                   .group = fc,
                   .example = "10K",
                   .apply = [](const std::string& v, config& c) {
                     const auto b = parse_size("--burst-bytes", v);
                     if (static_cast<double>(b) > max_rate_bytes)
                       throw usage_error(fmt::format("--burst-bytes: at most 1024G, got '{}'", v));
                     c.burst_bytes = static_cast<double>(b);
                   }});
  const char* out = "Output";
  flags.push_back({.name = "--output",
                   .short_name = "-o",
                   .value_name = "PATH",
                   .help = "Output file, appended to; reopened on SIGHUP (default stdout)",
                   .group = out,
                   .example = "out.ndjson",
                   .apply = [](const std::string& v, config& c) { c.output = v; }});
  flags.push_back({.name = "--dead-letter",
                   .value_name = "PATH",
                   .help = "Invalid and oversize lines go here",
                   .group = out,
                   .example = "bad.ndjson",
                   .apply = [](const std::string& v, config& c) { c.dead_letter = v; }});
  flags.push_back({.name = "--dead-letter-format",
                   .value_name = "raw|json",
                   .default_text = "raw",
                   .help = "raw: the line as read; json: {reason,error,source,offset,length,line}",
                   .group = out,
                   .choices = {"raw", "json"},
                   .example = "json",
                   .apply = [](const std::string& v, config& c) {
                     c.dead_letter_fmt = v == "json" ? dead_letter_format::json : dead_letter_format::raw;
                   }});
}

}  // namespace sluice
