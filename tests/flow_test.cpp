// The graph's guarantees (DESIGN.md §2): order, the in-flight bound with a slow sink and
// randomly slow batches, every event accounted for in drop mode.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sluice/app.hpp"
#include "support/numbered_input.hpp"
#include "support/recording_output.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

using testing::recording_output;
using testing::temp_dir;
using testing::lines_of;
using testing::numbered_lines;
using testing::small_batches;

// Sleeps a pseudo-random 0-2 ms for some batches in the parallel stage, so batches finish
// out of order and `order` has to hold them.
pipeline_hooks random_parse_delays(unsigned seed) {
  return {[seed](const batch& b) {
    std::minstd_rand rng(seed + static_cast<unsigned>(b.seq) * 7919u);
    const auto us = rng() % 2000;
    if (us % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
  }};
}

struct run_outcome {
  run_result result;
  std::string text;
};

run_outcome run_pipeline(const config& cfg, std::chrono::microseconds sink_delay, pipeline_hooks hooks,
                         const pipeline_stats** stats_out = nullptr, std::unique_ptr<app>* keep = nullptr) {
  auto out = std::make_unique<recording_output>(sink_delay);
  auto* view = out.get();
  auto p = std::make_unique<app>(cfg, app_overrides{std::make_unique<file_sink>(std::move(out)), nullptr, std::move(hooks)});
  run_outcome o{p->run(), view->text()};
  if (stats_out) *stats_out = &p->stats();
  if (keep) *keep = std::move(p);
  return o;
}

TEST(flow, delivers_every_line_in_input_order_despite_random_parse_delays) {
  temp_dir dir;
  const auto input = numbered_lines(5000);
  const auto cfg = small_batches(dir.file("in.ndjson", input));
  const auto o = run_pipeline(cfg, {}, random_parse_delays(1));
  EXPECT_EQ(o.result.code, exit_code::ok);
  EXPECT_EQ(o.text, input);
}

TEST(flow, unordered_delivers_the_same_lines) {
  temp_dir dir;
  const auto input = numbered_lines(3000);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  cfg.unordered = true;
  const auto o = run_pipeline(cfg, {}, random_parse_delays(2));
  auto got = lines_of(o.text);
  auto want = lines_of(input);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

// DESIGN.md §2.1: with a sink slower than everything else, the number of batches alive
// never exceeds read-ahead + parse tokens + sink tokens (+1), whatever the settings.
class flow_bounds : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t, std::size_t>> {};

TEST_P(flow_bounds, slow_sink_keeps_batches_alive_within_the_token_budget) {
  const auto [read_ahead, parse_tokens, sink_tokens] = GetParam();
  temp_dir dir;
  const auto input = numbered_lines(4000);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  cfg.read_ahead = read_ahead;
  cfg.parse_tokens = parse_tokens;
  cfg.sink_tokens = sink_tokens;
  std::unique_ptr<app> p;
  const pipeline_stats* st = nullptr;
  const auto o = run_pipeline(cfg, std::chrono::microseconds(300), random_parse_delays(3), &st, &p);

  EXPECT_EQ(o.result.code, exit_code::ok);
  EXPECT_EQ(o.text, input);
  const auto bound = static_cast<std::int64_t>(read_ahead + parse_tokens + sink_tokens + 1);
  EXPECT_LE(st->batches_alive.max_seen.load(), bound);
  EXPECT_LE(st->reader.read_ahead.max_seen.load(), static_cast<std::int64_t>(read_ahead));
  EXPECT_LE(st->parse.tokens.max_seen.load(), static_cast<std::int64_t>(parse_tokens));
  EXPECT_LE(st->sink.tokens.max_seen.load(), static_cast<std::int64_t>(sink_tokens));
  // The sink was the bottleneck: its tokens filled up, and so did the read-ahead (the
  // reader was made to wait rather than read on).
  EXPECT_EQ(st->sink.tokens.max_seen.load(), static_cast<std::int64_t>(sink_tokens));
  EXPECT_EQ(st->reader.read_ahead.max_seen.load(), static_cast<std::int64_t>(read_ahead));
  // Everything came back.
  EXPECT_EQ(st->batches_alive.in_use.load(), 0);
  EXPECT_EQ(st->parse.tokens.in_use.load(), 0);
  EXPECT_EQ(st->sink.tokens.in_use.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(token_settings, flow_bounds,
                         ::testing::Values(std::make_tuple(1, 1, 1), std::make_tuple(4, 4, 4),
                                           std::make_tuple(2, 8, 1), std::make_tuple(8, 2, 3)));

// DESIGN.md §2.4: in drop mode the reader never waits for the sink; what the sink cannot
// take is dropped whole and counted, so delivered + dropped = events read.
TEST(flow, drop_mode_counts_every_dropped_event) {
  temp_dir dir;
  const auto input = numbered_lines(6000);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  cfg.on_full = on_full_policy::drop;
  cfg.sink_tokens = 1;
  std::unique_ptr<app> p;
  const pipeline_stats* st = nullptr;
  const auto o = run_pipeline(cfg, std::chrono::microseconds(2000), {}, &st, &p);

  EXPECT_EQ(o.result.code, exit_code::ok);
  const auto delivered = lines_of(o.text);
  EXPECT_EQ(delivered.size(), st->sink.events_out.load());
  EXPECT_GT(st->sink.dropped_events.load(), 0u);
  EXPECT_EQ(st->sink.events_out.load() + st->sink.dropped_events.load(), 6000u);
  EXPECT_EQ(st->parse.events_out.load(), 6000u);
  // What was delivered is still in input order.
  EXPECT_TRUE(std::is_sorted(delivered.begin(), delivered.end(), [](const std::string& a, const std::string& b) {
    return std::stoi(a.substr(5)) < std::stoi(b.substr(5));
  }));
  EXPECT_LE(st->sink.tokens.max_seen.load(), 1);
}

TEST(flow, invalid_lines_are_counted_and_the_rest_delivered) {
  temp_dir dir;
  std::string input = numbered_lines(100);
  input += "not json\n[1,2]\n\n   \n";
  input += numbered_lines(100, 100);
  const auto cfg = small_batches(dir.file("in.ndjson", input));
  std::unique_ptr<app> p;
  const pipeline_stats* st = nullptr;
  const auto o = run_pipeline(cfg, {}, {}, &st, &p);
  EXPECT_EQ(o.text, numbered_lines(100) + numbered_lines(100, 100));
  EXPECT_EQ(st->parse.invalid.load(), 2u);
  EXPECT_EQ(st->parse.empty.load(), 2u);
  EXPECT_EQ(st->parse.events_out.load(), 200u);
}

TEST(flow, several_inputs_are_read_in_the_order_given) {
  temp_dir dir;
  const auto a = numbered_lines(500);
  const auto b = numbered_lines(500, 500);
  auto cfg = small_batches(dir.file("a.ndjson", a));
  // No final newline in the first file: its last line must not merge with the next file's.
  std::string a_open = a.substr(0, a.size() - 1);
  cfg.inputs = {dir.file("a2.ndjson", a_open), dir.file("b.ndjson", b)};
  const auto o = run_pipeline(cfg, {}, random_parse_delays(4));
  EXPECT_EQ(o.text, a + b);
}

TEST(flow, a_missing_input_is_reported_and_the_others_are_read) {
  temp_dir dir;
  const auto a = numbered_lines(10);
  auto cfg = small_batches(dir.file("a.ndjson", a));
  cfg.inputs = {(dir.path() / "missing.ndjson").string(), cfg.inputs[0]};
  const auto o = run_pipeline(cfg, {}, {});
  EXPECT_EQ(o.text, a);
  EXPECT_EQ(o.result.code, exit_code::runtime_failure);
  EXPECT_NE(o.result.message.find("could not be read"), std::string::npos);
}

TEST(flow, rate_limit_writes_in_chunks_of_whole_events) {
  temp_dir dir;
  const auto input = numbered_lines(300);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  cfg.rate = 3000;  // 100 ms in all; the bucket starts with a 300-event burst
  cfg.burst = 50;
  std::unique_ptr<app> p;
  const pipeline_stats* st = nullptr;
  auto out = std::make_unique<recording_output>();
  auto* view = out.get();
  p = std::make_unique<app>(cfg, app_overrides{std::make_unique<file_sink>(std::move(out)), nullptr, {}});
  const auto r = p->run();
  EXPECT_EQ(r.code, exit_code::ok);
  EXPECT_EQ(view->text(), input);
  // At most `burst` events a write while backlogged: 300 events need at least 6 writes.
  EXPECT_GE(view->writes(), 6u);
  st = &p->stats();
  EXPECT_EQ(st->sink.events_out.load(), 300u);
}

}  // namespace
}  // namespace sluice
