// The command line (DESIGN.md §3): defaults, sizes, rates, the optional --stats value,
// and the usage errors that make sluice exit 2.
#include "sluice/cli.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sluice/config.hpp"
#include "sluice/errors.hpp"
#include "sluice/rate.hpp"
#include "support/temp_dir.hpp"

namespace {

using sluice::config;
using sluice::parse_rate;
using sluice::parse_size;
using sluice::usage_error;

// argv as main() gets it: "sluice" first.
std::optional<config> parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"sluice"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(nullptr);
  return sluice::parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
}

config parse_ok(std::initializer_list<const char*> args) {
  auto cfg = parse(args);
  EXPECT_TRUE(cfg.has_value());
  return cfg.value_or(config{});
}

// The message of the usage_error `args` throws; fails the test if none is thrown.
std::string usage_message(std::initializer_list<const char*> args) {
  try {
    ::testing::internal::CaptureStdout();
    parse(args);
    ::testing::internal::GetCapturedStdout();
  } catch (const usage_error& e) {
    ::testing::internal::GetCapturedStdout();
    return e.what();
  }
  ADD_FAILURE() << "no usage_error";
  return {};
}

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * KiB;
constexpr std::size_t GiB = 1024 * MiB;

TEST(Cli, Defaults) {
  const config cfg = parse_ok({});
  EXPECT_TRUE(cfg.inputs.empty());
  EXPECT_EQ(cfg.read_ahead, 4u);
  EXPECT_EQ(cfg.sink_tokens, 4u);
  EXPECT_EQ(cfg.batch_bytes, 256 * KiB);
  EXPECT_EQ(cfg.max_line_bytes, 1 * MiB);
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(cfg.parse_threads, hw);
  EXPECT_EQ(cfg.parse_tokens, 2u * hw);
  EXPECT_EQ(cfg.rate, 0);
  EXPECT_EQ(cfg.rate_bytes, 0);
  EXPECT_FALSE(cfg.burst.has_value());
  EXPECT_EQ(cfg.on_full, sluice::on_full_policy::block);
  EXPECT_EQ(cfg.drain_timeout_s, 5);
  EXPECT_EQ(cfg.output, "-");
  EXPECT_EQ(cfg.dead_letter, "");
  EXPECT_EQ(cfg.dead_letter_fmt, sluice::dead_letter_format::raw);
  EXPECT_FALSE(cfg.stats);
  EXPECT_EQ(cfg.stats_interval_s, 0);
  EXPECT_TRUE(cfg.progress);
  EXPECT_EQ(cfg.log_level, "warn");
  EXPECT_FALSE(cfg.unordered);
}

TEST(Cli, ParseTokensDefaultIsTwiceTheThreads) {
  const config a = parse_ok({"--parse-threads", "3"});
  EXPECT_EQ(a.parse_threads, 3u);
  EXPECT_EQ(a.parse_tokens, 6u);
  const config b = parse_ok({"--parse-threads", "3", "--parse-tokens", "5"});
  EXPECT_EQ(b.parse_tokens, 5u);
}

// The parser term of the budget covers what one parser takes at once: the largest line,
// or a whole batch when batches are larger (parse.hpp).
TEST(Cli, MemoryBudgetCountsTheParsersLargestInput) {
  const config lines = parse_ok({"--parse-threads", "2", "--batch-bytes", "64KiB", "--max-line-bytes", "1MiB"});
  const config batches = parse_ok({"--parse-threads", "2", "--batch-bytes", "4MiB", "--max-line-bytes", "1MiB"});
  const auto buffers = [](const config& c) { return c.max_batches_alive() * 2 * c.largest_buffer_bytes(); };
  EXPECT_EQ(lines.memory_budget() - buffers(lines), 2 * 12 * MiB);
  EXPECT_EQ(batches.memory_budget() - buffers(batches), 2 * 12 * 4 * MiB);
}

TEST(Cli, FlowControlFlags) {
  const config cfg = parse_ok({"--read-ahead", "7", "--sink-tokens", "2", "--on-full", "drop", "--unordered",
                               "--dead-letter", "bad.ndjson", "--dead-letter-format", "json", "-o", "out.ndjson",
                               "--log-level", "debug", "--no-progress", "--drain-timeout", "1.5"});
  EXPECT_EQ(cfg.read_ahead, 7u);
  EXPECT_EQ(cfg.sink_tokens, 2u);
  EXPECT_EQ(cfg.on_full, sluice::on_full_policy::drop);
  EXPECT_TRUE(cfg.unordered);
  EXPECT_EQ(cfg.dead_letter, "bad.ndjson");
  EXPECT_EQ(cfg.dead_letter_fmt, sluice::dead_letter_format::json);
  EXPECT_EQ(cfg.output, "out.ndjson");
  EXPECT_EQ(cfg.log_level, "debug");
  EXPECT_FALSE(cfg.progress);
  EXPECT_DOUBLE_EQ(cfg.drain_timeout_s, 1.5);
}

TEST(Cli, Sizes) {
  EXPECT_EQ(parse_ok({"--batch-bytes", "64K"}).batch_bytes, 64 * KiB);
  EXPECT_EQ(parse_ok({"--batch-bytes", "2M"}).batch_bytes, 2 * MiB);
  EXPECT_EQ(parse_ok({"--batch-bytes", "1G", "--memory-limit", "1024G"}).batch_bytes, 1 * GiB);
  EXPECT_EQ(parse_ok({"--batch-bytes", "512KiB"}).batch_bytes, 512 * KiB);
  EXPECT_EQ(parse_ok({"--batch-bytes", "3MiB"}).batch_bytes, 3 * MiB);
  EXPECT_EQ(parse_ok({"--batch-bytes", "65536"}).batch_bytes, 65536u);
  EXPECT_EQ(parse_ok({"--max-line-bytes", "1GiB", "--memory-limit", "1024G"}).max_line_bytes, 1 * GiB);
  EXPECT_EQ(parse_ok({"--max-line-bytes", "100"}).max_line_bytes, 100u);
}

TEST(Cli, Rates) {
  const config m = parse_ok({"--rate", "100/m"});
  EXPECT_DOUBLE_EQ(m.rate, 100.0 / 60);
  EXPECT_DOUBLE_EQ(parse_ok({"--rate", "7200/h"}).rate, 2.0);
  EXPECT_DOUBLE_EQ(parse_ok({"--rate", "500"}).rate, 500.0);
  EXPECT_DOUBLE_EQ(parse_ok({"--rate", "500/s"}).rate, 500.0);
  EXPECT_DOUBLE_EQ(parse_ok({"--rate-bytes", "1M/s"}).rate_bytes, double(MiB));
  const config burst = parse_ok({"--rate", "50", "--burst", "5"});
  ASSERT_TRUE(burst.burst.has_value());
  EXPECT_DOUBLE_EQ(*burst.burst, 5.0);
}

TEST(Cli, StatsAloneMeansAtExit) {
  const config cfg = parse_ok({"--stats"});
  EXPECT_TRUE(cfg.stats);
  EXPECT_EQ(cfg.stats_interval_s, 0);
  EXPECT_TRUE(cfg.inputs.empty());
}

TEST(Cli, StatsWithEqualsSetsTheInterval) {
  const config cfg = parse_ok({"--stats=5"});
  EXPECT_TRUE(cfg.stats);
  EXPECT_DOUBLE_EQ(cfg.stats_interval_s, 5.0);
  EXPECT_DOUBLE_EQ(parse_ok({"--stats=0.5"}).stats_interval_s, 0.5);
}

TEST(Cli, StatsDoesNotSwallowTheNextWord) {
  const config cfg = parse_ok({"--stats", "app.log"});
  EXPECT_TRUE(cfg.stats);
  EXPECT_EQ(cfg.stats_interval_s, 0);
  EXPECT_EQ(cfg.inputs, std::vector<std::string>{"app.log"});
}

TEST(Cli, StatsFileIsNotTheStatsFlag) {
  const config cfg = parse_ok({"--stats-file", "s.json", "in.log"});
  EXPECT_EQ(cfg.stats_file, "s.json");
  EXPECT_TRUE(cfg.stats);  // where stats go implies stats
  EXPECT_EQ(cfg.stats_interval_s, 0);
  EXPECT_EQ(cfg.inputs, std::vector<std::string>{"in.log"});
}

TEST(Cli, FilesInOrder) {
  const config cfg = parse_ok({"b.log", "a.log", "-", "c.log"});
  EXPECT_EQ(cfg.inputs, (std::vector<std::string>{"b.log", "a.log", "-", "c.log"}));
  const config mixed = parse_ok({"z.log", "--rate", "5", "y.log", "--stats", "x.log"});
  EXPECT_EQ(mixed.inputs, (std::vector<std::string>{"z.log", "y.log", "x.log"}));
  EXPECT_DOUBLE_EQ(mixed.rate, 5.0);
  EXPECT_TRUE(mixed.stats);
}

TEST(Cli, UsageErrors) {
  const std::vector<std::vector<const char*>> cases = {
      {"--frobnicate"},
      {"--read-ahead", "0"},
      {"--sink-tokens", "-1"},
      {"--sink-tokens", "0"},
      {"--parse-tokens", "0"},
      {"--parse-threads", "0"},
      {"--batch-bytes", "12X"},
      {"--batch-bytes", "0"},
      {"--max-line-bytes", "K"},
      {"--rate", "0"},
      {"--rate", "abc"},
      {"--rate", "-5"},
      {"--rate", "10/d"},
      {"--rate-bytes", "0"},
      {"--on-full", "maybe"},
      {"--log-level", "loud"},
      {"--log-level", "WARN"},
      {"--dead-letter-format", "xml"},
      {"--burst", "5"},
      {"--rate", "10", "--burst", "0"},
      {"--stats=abc"},
      {"--stats=0"},
      {"--drain-timeout", "-1"},
      {"--read-ahead"},  // missing value
  };
  for (const auto& c : cases) {
    std::string joined;
    for (const char* a : c) joined += std::string(a) + " ";
    SCOPED_TRACE(joined);
    std::vector<const char*> argv{"sluice"};
    argv.insert(argv.end(), c.begin(), c.end());
    argv.push_back(nullptr);
    try {
      ::testing::internal::CaptureStdout();
      auto cfg = sluice::parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
      ::testing::internal::GetCapturedStdout();
      ADD_FAILURE() << "accepted" << (cfg ? "" : " (returned nullopt)");
    } catch (const usage_error& e) {
      ::testing::internal::GetCapturedStdout();
      const std::string msg = e.what();
      EXPECT_FALSE(msg.empty());
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "not one line: " << msg;
    }
  }
}

TEST(Cli, UsageMessagesNameTheFlag) {
  EXPECT_NE(usage_message({"--read-ahead", "0"}).find("--read-ahead"), std::string::npos);
  EXPECT_NE(usage_message({"--batch-bytes", "12X"}).find("--batch-bytes"), std::string::npos);
  EXPECT_NE(usage_message({"--burst", "5"}).find("--rate"), std::string::npos);
  EXPECT_NE(usage_message({"--frobnicate"}).find("frobnicate"), std::string::npos);
}

TEST(Cli, HelpAndVersionReturnNothing) {
  for (const char* flag : {"--help", "-h"}) {
    ::testing::internal::CaptureStdout();
    const auto cfg = parse({flag});
    const std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_FALSE(cfg.has_value()) << flag;
    EXPECT_NE(out.find("--batch-bytes"), std::string::npos) << flag;
    EXPECT_NE(out.find("--stats"), std::string::npos) << flag;
  }
  for (const char* flag : {"--version", "-V"}) {
    ::testing::internal::CaptureStdout();
    const auto cfg = parse({flag});
    const std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_FALSE(cfg.has_value()) << flag;
    EXPECT_EQ(out, sluice::version_text() + "\n") << flag;
  }
  EXPECT_EQ(sluice::version_text().rfind("sluice 0.1.0", 0), 0u);
}

TEST(ParseSize, Units) {
  EXPECT_EQ(parse_size("--x", "1"), 1u);
  EXPECT_EQ(parse_size("--x", "4096"), 4096u);
  EXPECT_EQ(parse_size("--x", "1K"), KiB);
  EXPECT_EQ(parse_size("--x", "64K"), 64 * KiB);
  EXPECT_EQ(parse_size("--x", "64KiB"), 64 * KiB);
  EXPECT_EQ(parse_size("--x", "1.5K"), 1536u);
  EXPECT_EQ(parse_size("--x", "5M"), 5 * MiB);
  EXPECT_EQ(parse_size("--x", "5MiB"), 5 * MiB);
  EXPECT_EQ(parse_size("--x", "3G"), 3 * GiB);
  EXPECT_EQ(parse_size("--x", "3GiB"), 3 * GiB);
}

TEST(ParseSize, Errors) {
  for (const char* bad : {"", "0", "K", "12X", "-5", "1 K", "1.2.3K", "abc", ".K", "0.0001K", "1T"}) {
    EXPECT_THROW(parse_size("--x", bad), usage_error) << "'" << bad << "'";
  }
  try {
    parse_size("--max-line-bytes", "12X");
    ADD_FAILURE() << "no throw";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("--max-line-bytes"), std::string::npos) << e.what();
  }
}

TEST(ParseRate, Units) {
  EXPECT_DOUBLE_EQ(parse_rate("--rate", "100", false), 100.0);
  EXPECT_DOUBLE_EQ(parse_rate("--rate", "100/s", false), 100.0);
  EXPECT_DOUBLE_EQ(parse_rate("--rate", "100/m", false), 100.0 / 60);
  EXPECT_DOUBLE_EQ(parse_rate("--rate", "3600/h", false), 1.0);
  EXPECT_DOUBLE_EQ(parse_rate("--rate", "90/h", false), 0.025);
  EXPECT_DOUBLE_EQ(parse_rate("--rate", "2.5", false), 2.5);
  EXPECT_DOUBLE_EQ(parse_rate("--rate-bytes", "1M", true), double(MiB));
  EXPECT_DOUBLE_EQ(parse_rate("--rate-bytes", "1M/s", true), double(MiB));
  EXPECT_DOUBLE_EQ(parse_rate("--rate-bytes", "60K/m", true), 1024.0);
  EXPECT_DOUBLE_EQ(parse_rate("--rate-bytes", "500", true), 500.0);
}

TEST(ParseRate, Errors) {
  for (const char* bad : {"", "0", "0/s", "-1", "abc", "/s", "10/", "10/d", "10/s/s", "1K"}) {
    EXPECT_THROW(parse_rate("--rate", bad, false), usage_error) << "'" << bad << "'";
  }
  for (const char* bad : {"0", "12X", "1M/d", "abc/s"}) {
    EXPECT_THROW(parse_rate("--rate-bytes", bad, true), usage_error) << "'" << bad << "'";
  }
}

// --stats=1e10 overflowed the clock of the stats wait (a busy loop that ignored SIGTERM)
// and --drain-timeout 1e10 made a drain time out at once: every duration, rate and
// burst is parsed into a checked range, with units, and extreme values are usage errors.
struct extreme_case {
  std::vector<const char*> args;
  bool accepted;
  double (*get)(const config&);
  double expected;
};

double stats_of(const config& c) { return c.stats_interval_s; }
double drain_of(const config& c) { return c.drain_timeout_s; }
double stall_of(const config& c) { return c.stall_timeout_s; }
double poll_of(const config& c) { return c.poll_ms; }
double rate_of(const config& c) { return c.rate; }
double rate_bytes_of(const config& c) { return c.rate_bytes; }
double burst_of(const config& c) { return c.burst.value_or(-1); }

void check_extremes(const std::vector<extreme_case>& cases) {
  for (const auto& c : cases) {
    std::string joined;
    for (const char* a : c.args) joined += std::string(a) + " ";
    SCOPED_TRACE(joined);
    std::vector<const char*> argv{"sluice"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    argv.push_back(nullptr);
    try {
      const auto cfg = sluice::parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
      ASSERT_TRUE(cfg.has_value());
      EXPECT_TRUE(c.accepted) << "accepted";
      if (c.accepted) {
        EXPECT_DOUBLE_EQ(c.get(*cfg), c.expected);
      }
    } catch (const usage_error& e) {
      EXPECT_FALSE(c.accepted) << "refused: " << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
}

TEST(Cli, DurationOverflowIsRefusedNotABusyLoop) {
  std::vector<extreme_case> cases;
  const std::vector<const char*> bad = {"-1", "1e10", "1e30", "inf", "-inf", "nan", "", "s", "5d", "1e", "2592001"};
  std::vector<std::string> keep;  // the "--stats=V" words; reserved, so c_str() stays valid
  keep.reserve(2 * bad.size());
  for (const char* v : bad) {
    cases.push_back({{"--drain-timeout", v}, false, drain_of, 0});
    cases.push_back({{"--stall-timeout", v}, false, stall_of, 0});
    if (*v == '\0') continue;  // "--stats=" and "--poll=" mean the flag without a value
    keep.push_back(std::string("--stats=") + v);
    cases.push_back({{keep.back().c_str()}, false, stats_of, 0});
    // --poll counts plain numbers in ms: 2592001 ms is 43 minutes, in range.
    keep.push_back(std::string("--poll=") + (std::string(v) == "2592001" ? "3600001" : v));
    cases.push_back({{"-F", "x.log", keep.back().c_str()}, false, poll_of, 0});
  }
  const std::vector<extreme_case> more = {
      {{"--stats=0"}, false, stats_of, 0},
      {{"--stats=5ms"}, false, stats_of, 0},  // under 10ms: a busy loop too
      {{"--stats=10ms"}, true, stats_of, 0.01},
      {{"--stats=200ms"}, true, stats_of, 0.2},
      {{"--stats=1.5"}, true, stats_of, 1.5},
      {{"--stats=1.5s"}, true, stats_of, 1.5},
      {{"--stats=5m"}, true, stats_of, 300},
      {{"--stats=1h"}, true, stats_of, 3600},
      {{"--stats=2592000"}, true, stats_of, 2592000},  // 30 days, the maximum
      {{"--drain-timeout", "0"}, true, drain_of, 0},
      {{"--drain-timeout", "500ms"}, true, drain_of, 0.5},
      {{"--drain-timeout", "2m"}, true, drain_of, 120},
      {{"--drain-timeout", "720h"}, true, drain_of, 2592000},
      {{"--drain-timeout", "721h"}, false, drain_of, 0},
      {{"--stall-timeout", "0"}, false, stall_of, 0},
      {{"--stall-timeout", "1m"}, true, stall_of, 60},
      {{"--stall-timeout", "3"}, true, stall_of, 3},
      {{"-F", "x.log", "--poll=0"}, false, poll_of, 0},
      {{"-F", "x.log", "--poll=100"}, true, poll_of, 100},  // plain numbers stay ms
      {{"-F", "x.log", "--poll=2s"}, true, poll_of, 2000},
      {{"-F", "x.log", "--poll=250ms"}, true, poll_of, 250},
      {{"-F", "x.log", "--poll=1h"}, true, poll_of, 3600000},
      {{"-F", "x.log", "--poll=2h"}, false, poll_of, 0},
      {{"-F", "x.log", "--poll"}, true, poll_of, 1000},
      {{"--rate", "0"}, false, rate_of, 0},
      {{"--rate", "-1"}, false, rate_of, 0},
      {{"--rate", "1e30"}, false, rate_of, 0},
      {{"--rate", "inf"}, false, rate_of, 0},
      {{"--rate", "nan"}, false, rate_of, 0},
      {{"--rate", "1e-30"}, false, rate_of, 0},
      {{"--rate", "0.5/h"}, false, rate_of, 0},
      {{"--rate", "1/h"}, true, rate_of, 1.0 / 3600},
      {{"--rate", "1e9"}, true, rate_of, 1e9},
      {{"--rate", "2e9/s"}, false, rate_of, 0},
      {{"--rate-bytes", "0"}, false, rate_bytes_of, 0},
      {{"--rate-bytes", "-1"}, false, rate_bytes_of, 0},
      {{"--rate-bytes", "1e30"}, false, rate_bytes_of, 0},
      {{"--rate-bytes", "inf"}, false, rate_bytes_of, 0},
      {{"--rate-bytes", "nan"}, false, rate_bytes_of, 0},
      {{"--rate-bytes", "100K/s"}, true, rate_bytes_of, 100.0 * 1024},
      {{"--rate-bytes", "1024G/s"}, true, rate_bytes_of, 1024.0 * GiB},
      {{"--rate-bytes", "1025G/s"}, false, rate_bytes_of, 0},
      {{"--rate", "10", "--burst", "0"}, false, burst_of, 0},
      {{"--rate", "10", "--burst", "-1"}, false, burst_of, 0},
      {{"--rate", "10", "--burst", "1e30"}, false, burst_of, 0},
      {{"--rate", "10", "--burst", "inf"}, false, burst_of, 0},
      {{"--rate", "10", "--burst", "nan"}, false, burst_of, 0},
      {{"--rate", "10", "--burst", "5"}, true, burst_of, 5},
  };
  cases.insert(cases.end(), more.begin(), more.end());
  check_extremes(cases);
}

double ckpt_of(const config& c) { return c.checkpoint_interval_s; }

// Checkpoints were saved every 2 s, fixed: a kill -9 delivered up to 2 s again.
TEST(Cli, CheckpointIntervalIsAFlagDefaultOneSecond) {
  EXPECT_DOUBLE_EQ(parse_ok({}).checkpoint_interval_s, 1.0);
  check_extremes({
      {{"--checkpoint", "c.json", "in.log", "--checkpoint-interval", "200ms"}, true, ckpt_of, 0.2},
      {{"--checkpoint", "c.json", "in.log", "--checkpoint-interval", "100ms"}, true, ckpt_of, 0.1},
      {{"--checkpoint", "c.json", "in.log", "--checkpoint-interval", "2"}, true, ckpt_of, 2},
      {{"--checkpoint", "c.json", "in.log", "--checkpoint-interval", "1h"}, true, ckpt_of, 3600},
      {{"--checkpoint", "c.json", "in.log", "--checkpoint-interval", "99ms"}, false, ckpt_of, 0},
      {{"--checkpoint", "c.json", "in.log", "--checkpoint-interval", "0"}, false, ckpt_of, 0},
      {{"--checkpoint", "c.json", "in.log", "--checkpoint-interval", "-1"}, false, ckpt_of, 0},
      {{"--checkpoint", "c.json", "in.log", "--checkpoint-interval", "1e30"}, false, ckpt_of, 0},
      {{"--checkpoint", "c.json", "in.log", "--checkpoint-interval", "inf"}, false, ckpt_of, 0},
      {{"--checkpoint", "c.json", "in.log", "--checkpoint-interval", "nan"}, false, ckpt_of, 0},
      {{"--checkpoint", "c.json", "in.log", "--checkpoint-interval", "61m"}, false, ckpt_of, 0},
      {{"in.log", "--checkpoint-interval", "1s"}, false, ckpt_of, 0},  // nothing to save
  });
}

double byte_burst_of(const config& c) { return c.byte_burst(); }

// --rate-bytes 100K/s let the first 1 MiB through at once: the byte burst is at least
// --max-line-bytes by default (documented), and --burst-bytes sets it.
TEST(Cli, BurstBytesSetsTheByteBucketsBurst) {
  EXPECT_DOUBLE_EQ(parse_ok({"--rate-bytes", "100K/s"}).byte_burst(), double(MiB));
  EXPECT_DOUBLE_EQ(parse_ok({"--rate-bytes", "100M/s"}).byte_burst(), 10.0 * MiB);
  const config c = parse_ok({"--rate-bytes", "100K/s", "--burst-bytes", "10K"});
  EXPECT_DOUBLE_EQ(c.byte_burst(), 10.0 * KiB);
  sluice::token_bucket bytes(c.rate_bytes, c.byte_burst(), 0);
  EXPECT_EQ(bytes.available(1.0, 0), 10 * KiB) << "what goes out at once";
  check_extremes({
      {{"--rate-bytes", "1M", "--burst-bytes", "64K"}, true, byte_burst_of, 64.0 * KiB},
      {{"--rate-bytes", "1M", "--burst-bytes", "1"}, true, byte_burst_of, 1},
      {{"--rate-bytes", "1M", "--burst-bytes", "0"}, false, byte_burst_of, 0},
      {{"--rate-bytes", "1M", "--burst-bytes", "-1"}, false, byte_burst_of, 0},
      {{"--rate-bytes", "1M", "--burst-bytes", "1e30"}, false, byte_burst_of, 0},
      {{"--rate-bytes", "1M", "--burst-bytes", "inf"}, false, byte_burst_of, 0},
      {{"--rate-bytes", "1M", "--burst-bytes", "nan"}, false, byte_burst_of, 0},
      {{"--rate-bytes", "1M", "--burst-bytes", "1025G"}, false, byte_burst_of, 0},
      {{"--burst-bytes", "64K"}, false, byte_burst_of, 0},  // needs --rate-bytes
  });
  EXPECT_NE(usage_message({"--burst-bytes", "64K"}).find("--rate-bytes"), std::string::npos);
}

// `sluice in.ndjson -o in.ndjson` (or -F 'logs/*.log' -o logs/clean.log) fed sluice its
// own output: refused before anything is opened, whatever the spelling of the path.
TEST(Cli, OutputThatIsAlsoAnInputIsRefused) {
  sluice::testing::temp_dir dir;
  const std::string in = dir.file("in.ndjson", "{}\n");
  const std::string d = dir.path().string();
  std::filesystem::create_directory(dir.path() / "other");
  std::filesystem::create_directory_symlink(dir.path(), dir.path() / "alias");
  const std::string same_glob = d + "/*.log", alias_glob = d + "/alias/*.log";
  const std::string clean = d + "/clean.log", dotted = d + "/./in.ndjson", followed = d + "/app.log";
  const std::string refused[][5] = {
      {in, "-o", in},
      {in, "-o", dotted},                 // another spelling, the same inode
      {"-", in, "--dead-letter", in},     // the dead letter is an output too
      {"-F", same_glob, "-o", clean},     // does not exist yet, but the glob would take it
      {"-F", alias_glob, "-o", clean},    // through a symlinked directory
      {"-F", same_glob, "--dead-letter", clean},
      {"-F", followed, "-o", followed},   // a followed path that does not exist yet
      {clean, "-o", clean},               // neither exists: the output would create the input
  };
  for (const auto& args : refused) {
    std::vector<const char*> argv{"sluice"};
    for (const auto& a : args)
      if (!a.empty()) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    std::string joined;
    for (std::size_t i = 1; i + 1 < argv.size(); ++i) joined += std::string(argv[i]) + " ";
    SCOPED_TRACE(joined);
    try {
      sluice::parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
      ADD_FAILURE() << "accepted";
    } catch (const usage_error& e) {
      EXPECT_NE(std::string(e.what()).find("its own output"), std::string::npos) << e.what();
    }
  }
  const std::string other = d + "/other/clean.log", ndjson = d + "/clean.ndjson", hidden = d + "/.clean.log";
  EXPECT_EQ(parse_ok({in.c_str(), "-o", ndjson.c_str()}).output, ndjson);
  EXPECT_EQ(parse_ok({"-F", same_glob.c_str(), "-o", ndjson.c_str()}).output, ndjson);
  EXPECT_EQ(parse_ok({"-F", same_glob.c_str(), "-o", other.c_str()}).output, other);
  EXPECT_EQ(parse_ok({"-F", same_glob.c_str(), "-o", hidden.c_str()}).output, hidden);  // glob(3) skips dot files
  EXPECT_EQ(parse_ok({same_glob.c_str(), "-o", clean.c_str()}).output, clean);  // without -F a glob is a name
  EXPECT_EQ(parse_ok({"/dev/null", "-o", "/dev/null"}).output, "/dev/null");  // a device feeds nothing back
}

double batch_of(const config& c) { return static_cast<double>(c.batch_bytes); }
double line_of(const config& c) { return static_cast<double>(c.max_line_bytes); }
double sink_tokens_of(const config& c) { return static_cast<double>(c.sink_tokens); }
double read_ahead_of(const config& c) { return static_cast<double>(c.read_ahead); }
double parse_tokens_of(const config& c) { return static_cast<double>(c.parse_tokens); }
double memory_limit_of(const config& c) { return static_cast<double>(c.memory_limit); }

// --batch-bytes 50G aborted with std::bad_alloc (exit 134), 10G was accepted, and
// --sink-tokens 1000000 grew to 4 GB: sizes and token counts are bounded, and a
// budget above the memory sluice may use is a usage error naming the flag to change.
TEST(Cli, MemoryBudgetAboveTheLimitIsAUsageError) {
  const char* big = "1024G";  // a limit that every bounded value fits
  check_extremes({
      {{"--batch-bytes", "50G"}, false, batch_of, 0},
      {{"--batch-bytes", "10G"}, false, batch_of, 0},
      {{"--batch-bytes", "1e30"}, false, batch_of, 0},
      {{"--batch-bytes", "inf"}, false, batch_of, 0},
      {{"--batch-bytes", "nan"}, false, batch_of, 0},
      {{"--batch-bytes", "-1"}, false, batch_of, 0},
      {{"--batch-bytes", "1025M", "--memory-limit", big}, false, batch_of, 0},
      {{"--batch-bytes", "1G", "--memory-limit", big}, true, batch_of, double(GiB)},
      {{"--max-line-bytes", "2G", "--memory-limit", big}, false, line_of, 0},
      {{"--max-line-bytes", "0"}, false, line_of, 0},
      {{"--max-line-bytes", "1e30"}, false, line_of, 0},
      {{"--sink-tokens", "1000000"}, false, sink_tokens_of, 0},
      {{"--sink-tokens", "4097", "--memory-limit", big}, false, sink_tokens_of, 0},
      {{"--sink-tokens", "4096", "--memory-limit", big}, true, sink_tokens_of, 4096},
      {{"--sink-tokens", "1e30"}, false, sink_tokens_of, 0},
      {{"--read-ahead", "4097", "--memory-limit", big}, false, read_ahead_of, 0},
      {{"--read-ahead", "18446744073709551616"}, false, read_ahead_of, 0},
      {{"--parse-tokens", "4097", "--memory-limit", big}, false, parse_tokens_of, 0},
      {{"--memory-limit", "0"}, false, memory_limit_of, 0},
      {{"--memory-limit", "-1"}, false, memory_limit_of, 0},
      {{"--memory-limit", "inf"}, false, memory_limit_of, 0},
      {{"--memory-limit", "1e30"}, false, memory_limit_of, 0},
      {{"--memory-limit", "64M", "--parse-threads", "2"}, true, memory_limit_of, 64.0 * MiB},
  });
  // The flag named is the one whose value costs the most.
  const auto named = [](std::initializer_list<const char*> args, const char* flag) {
    const std::string msg = usage_message(args);
    EXPECT_NE(msg.find("memory budget"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string("lower ") + flag), std::string::npos) << msg;
    EXPECT_NE(msg.find("--memory-limit"), std::string::npos) << msg;
  };
  named({"--memory-limit", "64M", "--parse-threads", "2", "--sink-tokens", "100"}, "--sink-tokens");
  named({"--memory-limit", "64M", "--parse-threads", "2", "--read-ahead", "100"}, "--read-ahead");
  named({"--memory-limit", "64M", "--parse-threads", "2", "--parse-tokens", "100"}, "--parse-tokens");
  named({"--memory-limit", "64M", "--parse-threads", "2", "--batch-bytes", "16M"}, "--batch-bytes");
  named({"--memory-limit", "64M", "--parse-threads", "2", "--max-line-bytes", "16M"}, "--max-line-bytes");
  named({"--memory-limit", "64M", "--parse-threads", "64"}, "--parse-threads");
  // Without --memory-limit the machine's memory is the limit: a budget of 1 TiB is more
  // than any machine this runs on.
  named({"--batch-bytes", "128M", "--sink-tokens", "4096", "--parse-threads", "2"}, "--sink-tokens");
}

// The cgroup's limit, v2 and v1, the lowest on the way up; "max" is no limit.
TEST(Config, CgroupMemoryLimit) {
  sluice::testing::temp_dir dir;
  const auto root = dir.path() / "cg";
  std::filesystem::create_directories(root / "a" / "b");
  const std::string proc = dir.file("cgroup", "0::/a/b\n");
  EXPECT_FALSE(sluice::cgroup_memory_limit(root.string(), proc).has_value());
  std::ofstream(root / "a" / "b" / "memory.max") << "max\n";
  EXPECT_FALSE(sluice::cgroup_memory_limit(root.string(), proc).has_value());
  std::ofstream(root / "a" / "memory.max") << "1073741824\n";
  EXPECT_EQ(sluice::cgroup_memory_limit(root.string(), proc), std::optional<std::size_t>(GiB));
  std::ofstream(root / "a" / "b" / "memory.max") << "536870912\n";
  EXPECT_EQ(sluice::cgroup_memory_limit(root.string(), proc), std::optional<std::size_t>(GiB / 2));

  // v1 (a hybrid host): the memory controller's line; INT64_MAX rounded is no limit.
  std::filesystem::create_directories(root / "memory" / "c");
  const std::string v1 = dir.file("cgroup1", "4:memory:/c\n0::/\n");
  std::ofstream(root / "memory" / "memory.limit_in_bytes") << "9223372036854771712\n";
  EXPECT_FALSE(sluice::cgroup_memory_limit(root.string(), v1).has_value());
  std::ofstream(root / "memory" / "c" / "memory.limit_in_bytes") << "268435456\n";
  EXPECT_EQ(sluice::cgroup_memory_limit(root.string(), v1), std::optional<std::size_t>(256 * MiB));
  EXPECT_GT(sluice::memory_available(), 0u);
}

TEST(ParseDuration, Units) {
  EXPECT_DOUBLE_EQ(sluice::parse_duration("--x", "200ms", 0, 100), 0.2);
  EXPECT_DOUBLE_EQ(sluice::parse_duration("--x", "2", 0, 100), 2);
  EXPECT_DOUBLE_EQ(sluice::parse_duration("--x", "1.5m", 0, 100), 90);
  EXPECT_DOUBLE_EQ(sluice::parse_duration("--x", "250", 0, 100, 0.001), 0.25);
  EXPECT_THROW(sluice::parse_duration("--x", "101", 0, 100), usage_error);
  EXPECT_THROW(sluice::parse_duration("--x", "1 s", 0, 100), usage_error);
  EXPECT_THROW(sluice::parse_duration("--x", "ms", 0, 100), usage_error);
  try {
    sluice::parse_duration("--drain-timeout", "1e10", 0, sluice::max_duration_s);
    ADD_FAILURE() << "no throw";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("--drain-timeout"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("30 days"), std::string::npos) << e.what();
  }
}

}  // namespace
