#include "sluice/cli.hpp"

#include <algorithm>
#include <array>
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

#include "sluice/config_file.hpp"
#include "sluice/errors.hpp"
#include "sluice/flags.hpp"
#include "sluice/metrics.hpp"
#include "sluice/transform.hpp"

namespace sluice {

namespace {

constexpr const char* version = "0.1.0";

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

namespace {

// What was given for one declared flag, and where: the command line, or a --config file.
struct given_flag {
  bool given = false;
  bool on = false;                 // a boolean's CLI11 result
  std::string text;                // a value, or an optional value after '='
  std::vector<std::string> texts;  // the inputs
  std::string origin;              // "FILE:LINE" for a value from --config; empty: the command line
};

// --config FILE: fills what the command line did not give (the command line wins).
void take_config_file(const std::string& path, const flag_set& flags, std::vector<given_flag>& values) {
  std::vector<int> line_of(flags.size(), 0);
  for (const auto& e : read_config_file(path)) {
    const auto it = std::find_if(flags.begin(), flags.end(), [&](const flag_spec& f) { return f.key() == e.key; });
    const std::string where = fmt::format("{}:{}", path, e.line);
    if (it == flags.end())
      throw usage_error(fmt::format("{}: unknown key '{}' (keys are the long flag names without dashes, see --help)",
                                    where, e.key));
    const auto i = static_cast<std::size_t>(it - flags.begin());
    if (line_of[i] != 0)
      throw usage_error(fmt::format("{}: '{}' is given twice (first on line {})", where, e.key, line_of[i]));
    line_of[i] = e.line;
    auto& v = values[i];
    if (v.given) continue;  // the command line wins
    const flag_spec& f = *it;
    if (f.kind == flag_kind::inputs) {
      v.texts = e.values;
      v.given = !v.texts.empty();
    } else {
      if (e.array || e.values.size() != 1)
        throw usage_error(fmt::format("{}: {}: expected one value, got an array", where, f.name));
      const std::string& text = e.values.front();
      if (f.kind == flag_kind::value) {
        v.text = text;
        v.given = true;
      } else if (text == "true" || text == "false") {
        v.given = text == "true";
      } else if (f.kind == flag_kind::optional) {
        v.text = text;
        v.given = true;
      } else {
        throw usage_error(fmt::format("{}: {}: expected true or false, got '{}'", where, f.name, text));
      }
    }
    v.origin = where;
  }
}

// The groups of --help, in this order; a group no component uses is not shown.
constexpr std::array<std::string_view, 5> group_order = {"Input", "Processing", "Flow control", "Output",
                                                         "Observability"};

}  // namespace

std::optional<config> parse_command_line(int argc, const char* const* argv) {
  const flag_set& flags = all_flags();
  std::vector<given_flag> values(flags.size());
  std::vector<CLI::Option*> options(flags.size(), nullptr);
  std::string config_path;

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
      "Every duration is at most 30 days; --stats and --stall-timeout at least 10ms.\n"
      "--config FILE: keys are the long names without dashes (rate = \"500/s\", follow = true,\n"
      "inputs = [\"a.log\"]); a flag on the command line wins over the file.\n\n"
      "Examples:\n"
      "  kubectl logs -f api | sluice --rate 500/s          # throttle a live stream\n"
      "  sluice --dead-letter bad.ndjson --stats app.log    # validate a file, keep the bad lines\n"
      "  sluice -F '/var/log/app/*.log' --checkpoint app.ckpt --where 'level == \"error\"' -o errors.ndjson\n"
      "                                                     # follow rotating logs, resume after a restart\n\n"
      "Exit: 0 all delivered (or stdout closed), 1 runtime failure, 2 usage error.");
  app.add_option("--config", config_path, "Read flags from a TOML file (see below); the command line wins")
      ->type_name("FILE")->group("Input");

  std::vector<std::string_view> groups(group_order.begin(), group_order.end());
  for (const auto& f : flags)
    if (std::find(groups.begin(), groups.end(), f.group) == groups.end()) groups.push_back(f.group);
  for (const auto group : groups) {
    for (std::size_t i = 0; i < flags.size(); ++i) {
      const flag_spec& f = flags[i];
      if (f.group != group) continue;
      const std::string names = f.short_name.empty() ? f.name : f.short_name + "," + f.name;
      CLI::Option* opt = nullptr;
      switch (f.kind) {
        case flag_kind::inputs: opt = app.add_option(names, values[i].texts, f.help); break;
        case flag_kind::boolean: opt = app.add_flag(names, values[i].on, f.help); break;
        // Shown in --help; parsed by take_optional_value_flags before CLI11 sees the words.
        case flag_kind::optional:
          opt = app.add_flag(names, values[i].given, "[=" + f.value_name + "] " + f.help);
          break;
        case flag_kind::value: opt = app.add_option(names, values[i].text, f.help); break;
      }
      // What each value is, in --help (CLI11 would say TEXT: every value is parsed later).
      if (!f.value_name.empty() && f.kind != flag_kind::optional && f.kind != flag_kind::boolean)
        opt->type_name(f.value_name);
      if (!f.default_text.empty()) opt->default_str(f.default_text);
      if (!f.choices.empty()) opt->check(CLI::IsMember(f.choices));
      opt->group(std::string(group));
      options[i] = opt;
    }
  }

  std::vector<optional_value_flag> optional_flags;
  for (std::size_t i = 0; i < flags.size(); ++i)
    if (flags[i].kind == flag_kind::optional) optional_flags.push_back({flags[i].name, &values[i].given, &values[i].text});
  std::vector<std::string> words = take_optional_value_flags(argc, argv, optional_flags);
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
  for (std::size_t i = 0; i < flags.size(); ++i) {
    auto& v = values[i];
    switch (flags[i].kind) {
      case flag_kind::inputs: v.given = !v.texts.empty(); break;
      case flag_kind::boolean: v.given = v.on; break;
      case flag_kind::optional: break;  // set by take_optional_value_flags
      case flag_kind::value: v.given = options[i]->count() > 0; break;
    }
  }
  if (!config_path.empty()) take_config_file(config_path, flags, values);

  // Step two: each given flag's check turns its text into the config, in declaration order.
  // A value from the file is checked as the flag would be, and the message says where it is.
  config cfg;
  for (std::size_t i = 0; i < flags.size(); ++i) {
    const flag_spec& f = flags[i];
    const auto& v = values[i];
    if (!v.given) continue;
    try {
      if (!f.choices.empty() && !v.origin.empty()) {
        std::string text = v.text;
        if (const std::string err = CLI::IsMember(f.choices)(text); !err.empty())
          throw usage_error(fmt::format("{}: {}", f.name, err));
      }
      if (f.kind == flag_kind::inputs) {
        for (const auto& t : v.texts) f.apply(t, cfg);
      } else {
        f.apply(v.text, cfg);
      }
    } catch (const usage_error& e) {
      if (v.origin.empty()) throw;
      throw usage_error(fmt::format("{}: {}", v.origin, e.what()));
    }
  }
  const auto given = [&](std::string_view name) {
    for (std::size_t i = 0; i < flags.size(); ++i)
      if (flags[i].name == name) return values[i].given;
    return false;
  };

  // Checks across flags.
  if (cfg.burst && !given("--rate")) throw usage_error("--burst needs --rate");
  if (cfg.burst_bytes && !given("--rate-bytes")) throw usage_error("--burst-bytes needs --rate-bytes");
  // Compiled here once to report --select with --drop as a usage error (exit 2).
  const transform check(cfg);
  if (!cfg.stats_file.empty() && !cfg.stats) cfg.stats = true;
  if (given("--poll") && !cfg.follow) throw usage_error("--poll needs -F/--follow");
  const bool stdin_only = cfg.inputs.empty() || std::all_of(cfg.inputs.begin(), cfg.inputs.end(),
                                                             [](const std::string& p) { return p == "-"; });
  if (cfg.follow) {
    if (cfg.inputs.empty()) throw usage_error("-F/--follow needs at least one file or glob");
    if (std::find(cfg.inputs.begin(), cfg.inputs.end(), "-") != cfg.inputs.end())
      throw usage_error("-F/--follow cannot follow stdin");
  } else if (cfg.from_start) {
    throw usage_error("--from-start needs -F/--follow");
  }
  if (!cfg.checkpoint.empty()) {
    if (stdin_only) throw usage_error("--checkpoint needs files: stdin cannot be resumed");
  } else if (cfg.reset_checkpoint) {
    throw usage_error("--reset-checkpoint needs --checkpoint");
  } else if (given("--checkpoint-interval")) {
    throw usage_error("--checkpoint-interval needs --checkpoint");
  }
  check_output_is_no_input(cfg);
  check_memory_budget(cfg);
  cfg.resolve_defaults();
  return cfg;
}

}  // namespace sluice
