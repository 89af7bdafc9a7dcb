#include "sluice/cli.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fnmatch.h>
#include <iostream>
#include <sys/stat.h>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <oneapi/tbb/version.h>
#include <simdjson.h>
#include <spdlog/version.h>

#include "sluice/errors.hpp"
#include "sluice/metrics.hpp"
#include "sluice/transform.hpp"

namespace sluice {

namespace {

constexpr const char* version = "0.1.0";
// The shortest --stats and --stall-timeout: anything shorter is a busy loop.
constexpr double min_interval_s = 0.01;

double parse_number(const std::string& flag, std::string_view text) {
  double v = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || !std::isfinite(v))
    throw usage_error(fmt::format("{}: expected a number, got '{}'", flag, text));
  return v;
}

std::size_t parse_count(const std::string& flag, const std::string& text, std::size_t max = 1'000'000) {
  std::size_t v = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || v == 0)
    throw usage_error(fmt::format("{}: expected a positive integer, got '{}'", flag, text));
  if (v > max) throw usage_error(fmt::format("{}: at most {}, got '{}'", flag, max, text));
  return v;
}

// Token counts and sizes: far above any use, low enough that the budget cannot overflow.
constexpr std::size_t max_tokens = 4096;
constexpr std::size_t max_buffer_bytes = std::size_t{1} << 30;

std::size_t bounded_size(const std::string& flag, const std::string& text, std::size_t max) {
  const auto v = parse_size(flag, text);
  if (v > max) throw usage_error(fmt::format("{}: at most {} MiB, got '{}'", flag, max >> 20, text));
  return v;
}

double mib(std::size_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

// DESIGN.md §2.2: a budget the machine cannot hold was accepted, and grew until the
// allocator failed (std::bad_alloc, exit 134). Refused here, naming the flag whose
// value costs the most: the one that, back at its default, lowers the budget most.
// `given` is the config before resolve_defaults().
void check_memory_budget(const config& given) {
  config cfg = given;
  cfg.resolve_defaults();
  std::string what = "--memory-limit";
  const std::size_t limit = cfg.memory_limit ? cfg.memory_limit : memory_available(&what);
  const std::size_t budget = cfg.memory_budget();
  if (budget <= limit) return;
  const config defaults;
  std::vector<std::pair<const char*, config>> alternatives;
  const auto alternative = [&](const char* flag, auto change) {
    config c = given;
    change(c);
    c.resolve_defaults();
    alternatives.emplace_back(flag, c);
  };
  alternative("--batch-bytes", [&](config& c) { c.batch_bytes = defaults.batch_bytes; });
  alternative("--max-line-bytes", [&](config& c) { c.max_line_bytes = defaults.max_line_bytes; });
  alternative("--read-ahead", [&](config& c) { c.read_ahead = defaults.read_ahead; });
  alternative("--sink-tokens", [&](config& c) { c.sink_tokens = defaults.sink_tokens; });
  alternative("--parse-tokens", [&](config& c) { c.parse_tokens = 0; });
  alternative("--parse-threads", [&](config& c) { c.parse_threads = 1; });
  const char* culprit = "--parse-threads";
  std::size_t best = budget;
  for (const auto& [flag, c] : alternatives) {
    if (c.memory_budget() < best) {
      best = c.memory_budget();
      culprit = flag;
    }
  }
  throw usage_error(fmt::format("the memory budget ({:.0f} MiB for {} batches and {} parsers) exceeds {} "
                                "({:.0f} MiB): lower {}, or raise --memory-limit",
                                mib(budget), cfg.max_batches_alive(), cfg.parse_threads, what, mib(limit), culprit));
}

// Flags whose value is optional must be written with '=' (DESIGN.md §3): CLI11 2.1.2
// would otherwise take the next word (`--stats app.log`). They are taken out here.
struct optional_value_flag {
  std::string_view name;
  bool* given;
  std::string* value;
};

std::vector<std::string> take_optional_value_flags(int argc, const char* const* argv,
                                                   std::vector<optional_value_flag> flags) {
  std::vector<std::string> rest;
  bool after_dashes = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    bool taken = false;
    if (!after_dashes) {
      for (auto& f : flags) {
        if (arg == f.name) {
          *f.given = true;
          taken = true;
        } else if (arg.size() > f.name.size() && arg.substr(0, f.name.size()) == f.name &&
                   arg[f.name.size()] == '=') {
          *f.given = true;
          *f.value = std::string(arg.substr(f.name.size() + 1));
          taken = true;
        }
      }
      if (arg == "--") after_dashes = true;
    }
    if (!taken) rest.emplace_back(arg);
  }
  std::reverse(rest.begin(), rest.end());  // CLI11 parses a reversed vector
  return rest;
}

// The path with its existing directories resolved (symlinks, "..", "."), the rest taken
// as written: an output that does not exist yet, or a glob, compares with what it names.
std::string resolved(const std::string& p) {
  std::error_code ec;
  auto r = std::filesystem::weakly_canonical(p, ec);
  if (ec) r = std::filesystem::absolute(p, ec).lexically_normal();
  return r.string();
}

bool has_glob(const std::string& p) { return p.find_first_of("*?[") != std::string::npos; }

// -o in.ndjson with in.ndjson as an input (or -F 'logs/*.log' -o logs/clean.log) feeds
// sluice its own output, forever. Checked before anything is opened.
void check_output_is_no_input(const config& cfg) {
  std::vector<std::pair<const char*, std::string>> outputs;
  if (cfg.output != "-") outputs.emplace_back("-o/--output", cfg.output);
  if (!cfg.dead_letter.empty()) outputs.emplace_back("--dead-letter", cfg.dead_letter);
  for (const auto& [flag, out] : outputs) {
    struct stat os {};
    const bool out_exists = ::stat(out.c_str(), &os) == 0;
    // A device (/dev/null both ways) feeds nothing back; a file or a FIFO would.
    if (out_exists && !S_ISREG(os.st_mode) && !S_ISFIFO(os.st_mode)) continue;
    const std::string out_path = resolved(out);
    for (const auto& in : cfg.inputs) {
      if (in == "-") continue;
      struct stat is {};
      if (out_exists && ::stat(in.c_str(), &is) == 0 && is.st_dev == os.st_dev && is.st_ino == os.st_ino)
        throw usage_error(fmt::format("{} {} is the input {}: sluice would read its own output", flag, out, in));
      // The same name, though neither exists yet: opening the output would create the input.
      // With -F, a glob is matched as follow mode's glob(3) does: '*' stops at '/', skips dot files.
      if (resolved(in) == out_path ||
          (cfg.follow && has_glob(in) &&
           ::fnmatch(resolved(in).c_str(), out_path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0))
        throw usage_error(fmt::format("{} {} would be read as the input '{}': sluice would read its own output",
                                      flag, out, in));
    }
  }
}

}  // namespace

std::size_t parse_size(const std::string& flag, const std::string& text) {
  std::string_view t = text;
  std::size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  const std::string_view num = t.substr(0, i);
  std::string unit(t.substr(i));
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mult = 1;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "K" || unit == "KIB" || unit == "KB") mult = 1024.0;
  else if (unit == "M" || unit == "MIB" || unit == "MB") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GIB" || unit == "GB") mult = 1024.0 * 1024 * 1024;
  else throw usage_error(fmt::format("{}: unknown size unit in '{}' (use K, M, G)", flag, text));
  if (num.empty()) throw usage_error(fmt::format("{}: expected a size like 256K, got '{}'", flag, text));
  const double v = parse_number(flag, num) * mult;
  if (v < 1 || v > 1e15) throw usage_error(fmt::format("{}: size out of range: '{}'", flag, text));
  return static_cast<std::size_t>(v);
}

double parse_duration(const std::string& flag, const std::string& text, double min_s, double max_s,
                      double plain_unit_s) {
  std::string_view t = text;
  double unit = plain_unit_s;
  // "ms" before "s" and "m".
  for (const auto& [suffix, secs] : std::initializer_list<std::pair<std::string_view, double>>{
           {"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}}) {
    if (t.size() > suffix.size() && t.substr(t.size() - suffix.size()) == suffix) {
      t.remove_suffix(suffix.size());
      unit = secs;
      break;
    }
  }
  double v = 0;
  const auto* end = t.data() + t.size();
  auto [p, ec] = std::from_chars(t.data(), end, v);
  // from_chars takes "inf" and "nan": not durations.
  if (t.empty() || ec != std::errc() || p != end || !std::isfinite(v))
    throw usage_error(fmt::format("{}: expected a duration like 200ms, 1.5s, 5m or 1h, got '{}'", flag, text));
  const double s = v * unit;
  // The bounds keep every wait far from overflowing a nanosecond clock (DESIGN.md §3).
  if (s < min_s || s > max_s)
    throw usage_error(fmt::format("{}: '{}' is out of range ({} to {})", flag, text, duration_text(min_s),
                                  duration_text(max_s)));
  return s;
}

std::string duration_text(double s) {
  if (s == 0) return "0";
  if (s < 1) return fmt::format("{:g}ms", s * 1000);
  if (s < 60) return fmt::format("{:g}s", s);
  if (s < 3600) return fmt::format("{:g}m", s / 60);
  if (s >= 86400 && std::fmod(s, 86400) == 0) return fmt::format("{:g} days", s / 86400);
  return fmt::format("{:g}h", s / 3600);
}

double parse_rate(const std::string& flag, const std::string& text, bool sizes) {
  std::string amount = text;
  double per = 1;
  if (const auto slash = text.find('/'); slash != std::string::npos) {
    amount = text.substr(0, slash);
    const std::string unit = text.substr(slash + 1);
    if (unit == "s" || unit == "sec") per = 1;
    else if (unit == "m" || unit == "min") per = 60;
    else if (unit == "h" || unit == "hour") per = 3600;
    else throw usage_error(fmt::format("{}: unknown time unit in '{}' (use /s, /m or /h)", flag, text));
  }
  const double n = sizes ? static_cast<double>(parse_size(flag, amount)) : parse_number(flag, amount);
  if (!(n > 0)) throw usage_error(fmt::format("{}: must be more than 0, got '{}'", flag, text));
  // Bounded both ways: a rate under 1/h would make one token's wait absurd, one over
  // the maximum is no limit at all (and would overflow the bucket's arithmetic).
  const double r = n / per;
  const double max = sizes ? max_rate_bytes : max_rate_events;
  if (r < 1.0 / 3600 || r > max)
    throw usage_error(fmt::format("{}: '{}' is out of range (1/h to {:g}/s)", flag, text, max));
  return r;
}

std::string version_text() {
  return fmt::format("sluice {} (oneTBB {}.{}, simdjson {}.{}.{}, spdlog {}.{}.{})", version, TBB_VERSION_MAJOR,
                     TBB_VERSION_MINOR, int(simdjson::SIMDJSON_VERSION_MAJOR), int(simdjson::SIMDJSON_VERSION_MINOR),
                     int(simdjson::SIMDJSON_VERSION_REVISION), SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH);
}

std::optional<config> parse_command_line(int argc, const char* const* argv) {
  config cfg;
  std::string max_line = "1MiB", batch_bytes = "256KiB", read_ahead = "4", parse_tokens, sink_tokens = "4";
  std::string threads, rate, rate_bytes, burst, burst_bytes, on_full = "block", drain = "5", format = "json",
                            dl_format = "raw", stats_value;
  bool stats_given = false;

  CLI::App app{"sluice: a log stream processor. Reads NDJSON logs from stdin or files, keeps the\n"
               "lines that are JSON objects, and writes them out in order, at a rate you set, with\n"
               "every stage's memory bounded: a slow output makes sluice stop reading, never grow.",
               "sluice"};
  app.set_version_flag("-V,--version", version_text());
  app.get_formatter()->column_width(34);
  app.footer(
      "Optional values need '=': --stats=5 (\"--stats app.log\" means stats at exit, read app.log).\n"
      "Sizes take K, M, G (or KiB, MiB, GiB): powers of 1024; at most 1G, token counts at most 4096,\n"
      "and the memory budget (--log-level info prints it) must fit --memory-limit.\n"
      "Durations take ms, s, m, h (200ms, 1.5s, 5m); a plain number is seconds (for --poll, ms).\n"
      "Every duration is at most 30 days; --stats and --stall-timeout at least 10ms.\n\n"
      "Examples:\n"
      "  kubectl logs -f api | sluice --rate 500/s          # throttle a live stream\n"
      "  sluice --dead-letter bad.ndjson --stats app.log    # validate a file, keep the bad lines\n"
      "  sluice -F '/var/log/app/*.log' --checkpoint app.ckpt --where 'level == \"error\"' -o errors.ndjson\n"
      "                                                     # follow rotating logs, resume after a restart\n\n"
      "Exit: 0 all delivered (or stdout closed), 1 runtime failure, 2 usage error.");

  app.add_option("FILE", cfg.inputs, "Inputs, read in order (none, or \"-\": stdin); with -F, paths or globs")
      ->group("Input");
  app.add_flag("-F,--follow", cfg.follow, "Follow files as they grow and rotate (like tail -F)")->group("Input");
  app.add_flag("--from-start", cfg.from_start,
               "Files present at the first start begin at their start (default: their end)")
      ->group("Input");
  app.add_option("--checkpoint", cfg.checkpoint,
                 "Save read offsets to PATH; a restart continues after the last event finished with")
      ->group("Input");
  std::string checkpoint_interval = "1s";
  app.add_option("--checkpoint-interval", checkpoint_interval,
                 "Make the output durable and save the checkpoint this often (100ms to 1h)")
      ->capture_default_str()->group("Input");
  app.add_flag("--reset-checkpoint", cfg.reset_checkpoint, "Start over if the checkpoint file is unreadable")
      ->group("Input");
  std::string max_open = "256";
  app.add_option("--max-open-files", max_open,
                 "With -F: idle files held open; more are closed and reopened by path when they change")
      ->capture_default_str()->group("Input");
  bool poll_given = false;
  std::string poll_value;
  // Shown in --help; parsed by take_optional_value_flags.
  app.add_flag("--poll", poll_given, "=MS: notice file changes by polling every MS ms (or =2s, =500ms) instead of inotify")
      ->group("Input");
  app.add_option("--max-line-bytes", max_line, "Longer lines are oversize: counted, dead-lettered")
      ->capture_default_str()->group("Input");

  app.add_option("--where", cfg.where, "Keep events for which EXPR is true (see README: --where)")
      ->group("Processing");
  app.add_option("--select", cfg.select, "Keep only these fields: F,F.. (req.path, a[\"odd.key\"])")
      ->group("Processing");
  app.add_option("--drop", cfg.drop, "Remove these fields: F,F.. (not with --select)")->group("Processing");
  app.add_option("--parse-threads", threads, "Parser threads (default: hardware threads)")->group("Processing");
  app.add_flag("--unordered", cfg.unordered, "Do not keep input order")->group("Processing");

  const char* fc = "Flow control";
  app.add_option("--batch-bytes", batch_bytes, "Largest batch")->capture_default_str()->group(fc);
  app.add_option("--read-ahead", read_ahead, "Batches read, waiting for parse")->capture_default_str()->group(fc);
  app.add_option("--parse-tokens", parse_tokens, "Batches in parse or waiting in order (default 2 x threads)")
      ->group(fc);
  app.add_option("--sink-tokens", sink_tokens, "Batches queued for the sink")->capture_default_str()->group(fc);
  app.add_option("--rate", rate, "Events per unit of time at the sink: N[/s|/m|/h] (default unlimited)")
      ->group(fc);
  app.add_option("--rate-bytes", rate_bytes, "Bytes per second at the sink: SIZE[/s]")->group(fc);
  app.add_option("--burst", burst, "Events the bucket may send at once (default 100 ms of rate)")->group(fc);
  app.add_option("--burst-bytes", burst_bytes,
                 "Bytes the byte bucket may send at once (default: 100 ms of rate, at least --max-line-bytes)")
      ->group(fc);
  app.add_option("--on-full", on_full, "block: stop reading when the sink is full; drop: drop and count")
      ->check(CLI::IsMember({"block", "drop"}))->capture_default_str()->group(fc);
  std::string memory_limit;
  app.add_option("--memory-limit", memory_limit,
                 "The memory the budget must fit in (default: physical memory, or the cgroup's memory.max)")
      ->group(fc);
  app.add_option("--drain-timeout", drain, "On SIGINT/SIGTERM, deliver in-flight events for at most this long")
      ->capture_default_str()->group(fc);

  app.add_option("-o,--output", cfg.output, "Output file, appended to; reopened on SIGHUP (default stdout)")
      ->group("Output");
  app.add_option("--format", format, "json: one object a line; logfmt: key=value pairs")
      ->check(CLI::IsMember({"json", "logfmt"}))->capture_default_str()->group("Output");
  app.add_option("--dead-letter", cfg.dead_letter, "Invalid and oversize lines go here")->group("Output");
  app.add_option("--dead-letter-format", dl_format,
                 "raw: the line as read; json: {reason,error,source,offset,length,line}")
      ->check(CLI::IsMember({"raw", "json"}))->capture_default_str()->group("Output");

  const char* obs = "Observability";
  // Shown in --help; parsed by take_optional_value_flags before CLI11 sees the words.
  app.add_flag("--stats", stats_given, "[=DURATION] per-stage counters as JSON lines at exit (and every DURATION)")
      ->group(obs);
  app.add_option("--stats-file", cfg.stats_file, "Where --stats goes (default stderr)")->group(obs);
  std::string metrics, stall = "30";
  app.add_option("--metrics", metrics,
                 "Serve Prometheus /metrics and /healthz on [HOST:]PORT (a bare port binds 127.0.0.1)")
      ->group(obs);
  app.add_option("--stall-timeout", stall, "/healthz answers 503 after this long without sink progress")
      ->capture_default_str()->group(obs);
  app.add_flag_function(
         "--no-progress", [&cfg](std::int64_t) { cfg.progress = false; },
         "No progress line on a terminal (shown when reading files)")
      ->group(obs);
  app.add_option("--log-level", cfg.log_level, "trace|debug|info|warn|error|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str()->group(obs);

  // What each value is, in --help (CLI11 would say TEXT: every value is parsed here).
  for (const auto& [name, type] : std::initializer_list<std::pair<const char*, const char*>>{
           {"FILE", "FILE"},
           {"--checkpoint", "PATH"},
           {"--checkpoint-interval", "DURATION"},
           {"--max-line-bytes", "SIZE"},
           {"--where", "EXPR"},
           {"--select", "F,.."},
           {"--drop", "F,.."},
           {"--parse-threads", "N"},
           {"--batch-bytes", "SIZE"},
           {"--read-ahead", "N"},
           {"--parse-tokens", "N"},
           {"--sink-tokens", "N"},
           {"--rate", "N[/s|/m|/h]"},
           {"--rate-bytes", "SIZE[/s]"},
           {"--burst", "N"},
           {"--burst-bytes", "SIZE"},
           {"--on-full", "block|drop"},
           {"--drain-timeout", "DURATION"},
           {"--memory-limit", "SIZE"},
           {"--output", "PATH"},
           {"--format", "json|logfmt"},
           {"--dead-letter", "PATH"},
           {"--dead-letter-format", "raw|json"},
           {"--stats-file", "PATH"},
           {"--max-open-files", "N"},
           {"--metrics", "[HOST:]PORT"},
           {"--stall-timeout", "DURATION"},
           {"--log-level", "LEVEL"},
       })
    app.get_option(name)->type_name(type);

  std::vector<std::string> words =
      take_optional_value_flags(argc, argv, {{"--stats", &stats_given, &stats_value},
                                             {"--poll", &poll_given, &poll_value}});
  try {
    app.parse(words);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return std::nullopt;
  } catch (const CLI::CallForVersion&) {
    std::cout << version_text() << "\n";
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    throw usage_error(msg + " (see --help)");
  }

  cfg.max_line_bytes = bounded_size("--max-line-bytes", max_line, max_buffer_bytes);
  cfg.batch_bytes = bounded_size("--batch-bytes", batch_bytes, max_buffer_bytes);
  if (cfg.batch_bytes < 64) throw usage_error("--batch-bytes: must be at least 64");
  cfg.read_ahead = parse_count("--read-ahead", read_ahead, max_tokens);
  cfg.sink_tokens = parse_count("--sink-tokens", sink_tokens, max_tokens);
  if (!memory_limit.empty()) cfg.memory_limit = parse_size("--memory-limit", memory_limit);
  if (!threads.empty()) {
    const auto n = parse_count("--parse-threads", threads);
    if (n > 1024) throw usage_error("--parse-threads: at most 1024");
    cfg.parse_threads = static_cast<unsigned>(n);
  }
  if (!parse_tokens.empty()) cfg.parse_tokens = parse_count("--parse-tokens", parse_tokens, max_tokens);
  if (!rate.empty()) cfg.rate = parse_rate("--rate", rate, false);
  if (!rate_bytes.empty()) cfg.rate_bytes = parse_rate("--rate-bytes", rate_bytes, true);
  if (!burst.empty()) {
    const double b = parse_number("--burst", burst);
    if (b < 1 || b > max_rate_events)
      throw usage_error(fmt::format("--burst: must be 1 to {:g}, got '{}'", max_rate_events, burst));
    if (rate.empty()) throw usage_error("--burst needs --rate");
    cfg.burst = b;
  }
  if (!burst_bytes.empty()) {
    const auto b = parse_size("--burst-bytes", burst_bytes);
    if (static_cast<double>(b) > max_rate_bytes)
      throw usage_error(fmt::format("--burst-bytes: at most 1024G, got '{}'", burst_bytes));
    if (rate_bytes.empty()) throw usage_error("--burst-bytes needs --rate-bytes");
    cfg.burst_bytes = static_cast<double>(b);
  }
  cfg.on_full = on_full == "drop" ? on_full_policy::drop : on_full_policy::block;
  cfg.drain_timeout_s = parse_duration("--drain-timeout", drain, 0, max_duration_s);
  cfg.dead_letter_fmt = dl_format == "json" ? dead_letter_format::json : dead_letter_format::raw;
  cfg.format = format == "logfmt" ? output_format::logfmt : output_format::json;
  // Compiled here once to report a bad expression or list as a usage error (exit 2).
  const transform check(cfg);
  cfg.stats = stats_given;
  if (!stats_value.empty()) {
    cfg.stats_interval_s = parse_duration("--stats", stats_value, min_interval_s, max_duration_s);
  }
  if (!cfg.stats_file.empty() && !cfg.stats) cfg.stats = true;
  if (!metrics.empty()) {
    const auto addr = parse_listen_address(metrics);
    cfg.metrics_host = addr.host;
    cfg.metrics_port = addr.port;
  }
  cfg.stall_timeout_s = parse_duration("--stall-timeout", stall, min_interval_s, max_duration_s);
  for (const auto& in : cfg.inputs)
    if (in.empty()) throw usage_error("an empty input path was given");
  cfg.max_open_files = parse_count("--max-open-files", max_open);
  if (poll_given) {
    // A plain number is milliseconds here, as it always was; at most an hour (an int of ms).
    cfg.poll_ms = poll_value.empty()
                      ? 1000
                      : static_cast<unsigned>(std::lround(parse_duration("--poll", poll_value, 0.001, 3600, 0.001) * 1000));
    if (!cfg.follow) throw usage_error("--poll needs -F/--follow");
  }
  const bool stdin_only = cfg.inputs.empty() || std::all_of(cfg.inputs.begin(), cfg.inputs.end(),
                                                             [](const std::string& p) { return p == "-"; });
  if (cfg.follow) {
    if (cfg.inputs.empty()) throw usage_error("-F/--follow needs at least one file or glob");
    if (std::find(cfg.inputs.begin(), cfg.inputs.end(), "-") != cfg.inputs.end())
      throw usage_error("-F/--follow cannot follow stdin");
  } else if (cfg.from_start) {
    throw usage_error("--from-start needs -F/--follow");
  }
  // Under 100ms the fdatasync of every save would cost more than the events it saves.
  cfg.checkpoint_interval_s = parse_duration("--checkpoint-interval", checkpoint_interval, 0.1, 3600);
  if (!cfg.checkpoint.empty()) {
    if (stdin_only) throw usage_error("--checkpoint needs files: stdin cannot be resumed");
  } else if (cfg.reset_checkpoint) {
    throw usage_error("--reset-checkpoint needs --checkpoint");
  } else if (app.get_option("--checkpoint-interval")->count() > 0) {
    throw usage_error("--checkpoint-interval needs --checkpoint");
  }
  check_output_is_no_input(cfg);
  check_memory_budget(cfg);
  cfg.resolve_defaults();
  return cfg;
}

}  // namespace sluice
