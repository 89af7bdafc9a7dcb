// The source's flags (DESIGN.md §3, §6): what is read, how followed files are watched,
// and where read offsets are saved.
#include <cmath>

#include "sluice/cli.hpp"
#include "sluice/errors.hpp"
#include "sluice/flags.hpp"

namespace sluice {

void add_source_flags(flag_set& flags) {
  const char* group = "Input";
  flags.push_back({.name = "FILE",
                   .kind = flag_kind::inputs,
                   .value_name = "FILE",
                   .help = "Inputs, read in order (none, or \"-\": stdin); with -F, paths or globs",
                   .group = group,
                   .example = "app.log",
                   .apply = [](const std::string& v, config& c) {
                     if (v.empty()) throw usage_error("an empty input path was given");
                     c.inputs.push_back(v);
                   }});
  flags.push_back({.name = "--follow",
                   .short_name = "-F",
                   .kind = flag_kind::boolean,
                   .help = "Follow files as they grow and rotate (like tail -F)",
                   .group = group,
                   .apply = [](const std::string&, config& c) { c.follow = true; }});
  flags.push_back({.name = "--from-start",
                   .kind = flag_kind::boolean,
                   .help = "Files present at the first start begin at their start (default: their end)",
                   .group = group,
                   .apply = [](const std::string&, config& c) { c.from_start = true; }});
  flags.push_back({.name = "--checkpoint",
                   .value_name = "PATH",
                   .help = "Save read offsets to PATH; a restart continues after the last event finished with",
                   .group = group,
                   .example = "app.ckpt",
                   .apply = [](const std::string& v, config& c) { c.checkpoint = v; }});
  // Under 100ms the fdatasync of every save would cost more than the events it saves.
  flags.push_back({.name = "--checkpoint-interval",
                   .value_name = "DURATION",
                   .default_text = "1s",
                   .help = "Make the output durable and save the checkpoint this often (100ms to 1h)",
                   .group = group,
                   .example = "250ms",
                   .apply = [](const std::string& v, config& c) {
                     c.checkpoint_interval_s = parse_duration("--checkpoint-interval", v, 0.1, 3600);
                   }});
  flags.push_back({.name = "--reset-checkpoint",
                   .kind = flag_kind::boolean,
                   .help = "Start over if the checkpoint file is unreadable",
                   .group = group,
                   .apply = [](const std::string&, config& c) { c.reset_checkpoint = true; }});
  flags.push_back({.name = "--max-open-files",
                   .value_name = "N",
                   .default_text = "256",
                   .help = "With -F: idle files held open; more are closed and reopened by path when they change",
                   .group = group,
                   .example = "64",
                   .apply = [](const std::string& v, config& c) {
                     c.max_open_files = parse_count("--max-open-files", v);
                   }});
  // The value needs '=' (DESIGN.md §3); a plain number is milliseconds here, as it always
  // was; at most an hour (an int of ms). Alone: every second.
  flags.push_back({.name = "--poll",
                   .kind = flag_kind::optional,
                   .value_name = "MS",
                   .help = "notice file changes by polling every MS ms (or =2s, =500ms; alone: 1s) instead of inotify",
                   .group = group,
                   .example = "250ms",
                   .apply = [](const std::string& v, config& c) {
                     c.poll_ms = v.empty() ? 1000
                                           : static_cast<unsigned>(std::lround(
                                                 parse_duration("--poll", v, 0.001, 3600, 0.001) * 1000));
                   }});
  flags.push_back({.name = "--max-line-bytes",
                   .value_name = "SIZE",
                   .default_text = "1MiB",
                   .help = "Longer lines are oversize: counted, dead-lettered",
                   .group = group,
                   .example = "512K",
                   .apply = [](const std::string& v, config& c) {
                     c.max_line_bytes = bounded_size("--max-line-bytes", v, max_buffer_bytes);
                   }});
}

}  // namespace sluice
