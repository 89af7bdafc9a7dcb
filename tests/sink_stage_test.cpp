// The sink stage's contract for sinks that answer later (DESIGN.md §8): outcomes come
// from another thread, late and out of order, sometimes as "retry"; a batch keeps its
// sink token until its outcome is final; the checkpoint never passes what was not
// acknowledged; Retry-After holds every later send; a drain gives up on what stays open.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sluice/app.hpp"
#include "sluice/sink/file_sink.hpp"
#include "support/async_sink.hpp"
#include "support/numbered_input.hpp"
#include "support/recording_output.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

using testing::async_sink;
using testing::recording_output;
using testing::temp_dir;
using testing::lines_of;
using testing::lines_of_file;
using testing::numbered_lines;
using testing::small_batches;

std::vector<std::string> sorted_lines(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

pipeline_hooks fast_retries() {
  pipeline_hooks h;
  h.retry.initial_backoff = std::chrono::milliseconds(1);
  h.retry.max_backoff = std::chrono::milliseconds(5);
  return h;
}

// Waits for `done` with a generous deadline (never a fixed sleep).
template <class Pred>
bool eventually(Pred done, std::chrono::seconds deadline = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

TEST(sink_stage, late_out_of_order_acknowledgements_deliver_every_event_once) {
  temp_dir dir;
  const auto input = numbered_lines(3000);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  auto out = std::make_unique<async_sink>(7);
  auto* view = out.get();
  app a(cfg, app_overrides{std::move(out), nullptr, {}});
  const auto r = a.run();
  EXPECT_EQ(r.code, exit_code::ok) << r.message;
  EXPECT_EQ(sorted_lines(view->acknowledged_lines()), sorted_lines(lines_of(input)));
  EXPECT_EQ(a.stats().sink.events_out.load(), 3000u);
  EXPECT_EQ(a.stats().sink.undelivered_events.load(), 0u);
  EXPECT_EQ(a.stats().sink.tokens.in_use.load(), 0);
}

class sink_token_bound : public ::testing::TestWithParam<std::size_t> {};

// Nothing is acknowledged until the sends have piled up to what the tokens allow (the
// sink is the bottleneck, whatever the machine's speed), and never beyond.
TEST_P(sink_token_bound, unacknowledged_batches_never_exceed_sink_tokens) {
  const std::size_t tokens = GetParam();
  temp_dir dir;
  const auto input = numbered_lines(2000);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  cfg.sink_tokens = tokens;
  std::atomic<bool> released{false};
  auto out = std::make_unique<async_sink>(static_cast<unsigned>(tokens), async_sink::policy{},
                                          [&](const send_request&) { return !released.load(); });
  auto* view = out.get();
  app a(cfg, app_overrides{std::move(out), nullptr, {}});
  run_result r;
  std::thread t([&] { r = a.run(); });
  // Without a rate limit a batch is one send: sends outstanding are batches outstanding.
  const bool piled_up = eventually([&] { return view->pending() >= tokens; });
  released = true;
  t.join();
  ASSERT_TRUE(piled_up) << "the sends never reached the sink-token bound";
  EXPECT_EQ(r.code, exit_code::ok) << r.message;
  EXPECT_EQ(view->max_pending(), tokens);
  EXPECT_LE(a.stats().sink.tokens.max_seen.load(), static_cast<std::int64_t>(tokens));
  EXPECT_EQ(sorted_lines(view->acknowledged_lines()), sorted_lines(lines_of(input)));
}

INSTANTIATE_TEST_SUITE_P(tokens, sink_token_bound, ::testing::Values(1, 2, 5));

TEST(sink_stage, a_retried_send_is_delivered_exactly_once_more) {
  temp_dir dir;
  const auto input = numbered_lines(2000);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  // Every third send is refused on its first attempt, some twice.
  auto out = std::make_unique<async_sink>(3, [](const send_request& s) {
    if (s.id % 3 == 0 && s.attempt == 0) return send_outcome::retry("503 Service Unavailable");
    if (s.id % 9 == 0 && s.attempt == 1) return send_outcome::retry("timeout");
    return send_outcome::acknowledged();
  });
  auto* view = out.get();
  app a(cfg, app_overrides{std::move(out), nullptr, fast_retries()});
  const auto r = a.run();
  EXPECT_EQ(r.code, exit_code::ok) << r.message;
  std::map<std::uint64_t, unsigned> sends_per_id;
  for (const auto& s : view->sends()) ++sends_per_id[s.id];
  std::uint64_t retried = 0;
  for (const auto& [id, n] : sends_per_id) {
    const unsigned expected = id % 9 == 0 ? 3u : id % 3 == 0 ? 2u : 1u;
    EXPECT_EQ(n, expected) << "send " << id;
    retried += expected - 1;
  }
  EXPECT_GT(retried, 0u);
  EXPECT_EQ(a.stats().sink.retries.load(), retried);
  // Every event exactly once: retries repeat what was refused, never what was acknowledged.
  EXPECT_EQ(sorted_lines(view->acknowledged_lines()), sorted_lines(lines_of(input)));
}

// A sink that answers inside send(), as a file does, as `answer` says; it records when
// each send began and when each Retry-After was reported.
class answering_sink final : public sink {
 public:
  explicit answering_sink(async_sink::policy answer) : answer_(std::move(answer)) {}
  void send(const send_request& r) override {
    const auto at = std::chrono::steady_clock::now();
    send_outcome o = answer_(r);
    {
      std::lock_guard lock(mutex_);
      sends_.push_back({r.id, r.attempt, at});
      if (o.what == send_outcome::kind::acknowledged)
        lines_ += static_cast<std::size_t>(std::count(r.bytes.begin(), r.bytes.end(), '\n'));
      if (o.what == send_outcome::kind::retry && o.retry_after.count() >= 0)
        pauses_.emplace_back(std::chrono::steady_clock::now(), o.retry_after);
    }
    report(r.id, std::move(o));
  }
  std::string_view type() const override { return "test"; }
  std::string describe() const override { return "answering test sink"; }
  std::vector<async_sink::sent_record> sends() const {
    std::lock_guard lock(mutex_);
    return sends_;
  }
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::chrono::nanoseconds>> pauses() const {
    std::lock_guard lock(mutex_);
    return pauses_;
  }
  std::size_t lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  async_sink::policy answer_;
  mutable std::mutex mutex_;
  std::vector<async_sink::sent_record> sends_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::chrono::nanoseconds>> pauses_;
  std::size_t lines_ = 0;
};

// Regression: a retry reported inside send() for the last batch was taken after the stage
// had worked out its next wake-up, and nothing else came to wake it: the run never ended.
TEST(sink_stage, a_retry_reported_inside_send_is_sent_again_even_for_the_last_batch) {
  temp_dir dir;
  const auto input = numbered_lines(500);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  auto out = std::make_unique<answering_sink>(
      [](const send_request& r) { return r.attempt == 0 ? send_outcome::retry("not yet") : send_outcome::acknowledged(); });
  auto* view = out.get();
  app a(cfg, app_overrides{std::move(out), nullptr, fast_retries()});
  std::atomic<bool> ran{false};
  run_result r;
  std::thread t([&] {
    r = a.run();
    ran = true;
  });
  const bool ended = eventually([&] { return ran.load(); });
  if (!ended) a.stop();  // unblocks the run (the drain then gives up) so the test can fail
  t.join();
  ASSERT_TRUE(ended) << "the run did not end: a retry was never sent again";
  EXPECT_EQ(r.code, exit_code::ok) << r.message;
  EXPECT_EQ(view->lines(), 500u);
  EXPECT_EQ(view->sends().size(), 2 * a.stats().sink.batches_in.load());
}

// The sink answers inside send(), so the stage knows of each Retry-After before it could
// send anything else: from then on, nothing at all may be sent until the pause is over.
TEST(sink_stage, retry_after_holds_every_later_send) {
  temp_dir dir;
  const auto input = numbered_lines(1500);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  static constexpr auto pause = std::chrono::milliseconds(150);
  auto out = std::make_unique<answering_sink>([](const send_request& s) {
    // Two refusals with a Retry-After, one of them for a retry that was refused before.
    if ((s.id == 4 || s.id == 20) && s.attempt == 0) return send_outcome::retry("429 Too Many Requests", pause);
    if (s.id == 20 && s.attempt == 1) return send_outcome::retry("429 Too Many Requests", pause);
    return send_outcome::acknowledged();
  });
  auto* view = out.get();
  app a(cfg, app_overrides{std::move(out), nullptr, fast_retries()});
  const auto r = a.run();
  EXPECT_EQ(r.code, exit_code::ok) << r.message;
  const auto pauses = view->pauses();
  ASSERT_EQ(pauses.size(), 3u);
  for (const auto& [at, length] : pauses) {
    for (const auto& s : view->sends())
      EXPECT_FALSE(s.at > at && s.at < at + length) << "send " << s.id << " during a Retry-After pause";
  }
  EXPECT_EQ(view->lines(), 1500u);
  EXPECT_EQ(a.stats().sink.retries.load(), 3u);
}

TEST(sink_stage, retries_give_up_into_the_dead_letter_when_limited) {
  temp_dir dir;
  const auto input = numbered_lines(300);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  cfg.dead_letter = (dir.path() / "dead.ndjson").string();
  cfg.dead_letter_fmt = dead_letter_format::json;
  auto hooks = fast_retries();
  hooks.retry.max_retries = 2;
  auto out = std::make_unique<async_sink>(
      2, [](const send_request& s) { return s.id == 2 ? send_outcome::retry("502 Bad Gateway") : send_outcome::acknowledged(); });
  auto* view = out.get();
  app a(cfg, app_overrides{std::move(out), nullptr, hooks});
  const auto r = a.run();
  EXPECT_EQ(r.code, exit_code::ok) << r.message;
  const auto refused = a.stats().sink.rejected_events.load();
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(a.stats().sink.retries.load(), 3u);  // the first attempt and two retries were refused
  const auto dead = lines_of_file(cfg.dead_letter);
  ASSERT_EQ(dead.size(), refused);
  EXPECT_NE(dead[0].find(R"("reason":"delivery_failed")"), std::string::npos) << dead[0];
  EXPECT_NE(dead[0].find("502 Bad Gateway"), std::string::npos) << dead[0];
  EXPECT_EQ(view->acknowledged_lines().size() + refused, 300u);
}

TEST(sink_stage, rejected_events_are_dead_lettered_with_the_reason_and_finished_with) {
  temp_dir dir;
  const auto input = numbered_lines(500);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  cfg.dead_letter = (dir.path() / "dead.ndjson").string();
  cfg.dead_letter_fmt = dead_letter_format::json;
  auto out = std::make_unique<async_sink>(4, [](const send_request& s) {
    return s.id % 4 == 1 ? send_outcome::rejected("400 Bad Request: schema") : send_outcome::acknowledged();
  });
  auto* view = out.get();
  app a(cfg, app_overrides{std::move(out), nullptr, {}});
  const auto r = a.run();
  EXPECT_EQ(r.code, exit_code::ok) << r.message;
  const auto dead = lines_of_file(cfg.dead_letter);
  EXPECT_EQ(dead.size(), a.stats().sink.rejected_events.load());
  EXPECT_GT(dead.size(), 0u);
  for (const auto& d : dead) EXPECT_NE(d.find(R"("reason":"rejected","error":"400 Bad Request: schema")"), std::string::npos) << d;
  EXPECT_EQ(view->acknowledged_lines().size() + dead.size(), 500u);
  EXPECT_EQ(a.stats().sink.undelivered_events.load(), 0u);
}

TEST(sink_stage, a_failed_outcome_stops_reading_and_fails_the_run) {
  temp_dir dir;
  const auto input = numbered_lines(20000);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  auto out = std::make_unique<async_sink>(
      6, [](const send_request& s) { return s.id == 3 ? send_outcome::failed("401 Unauthorized") : send_outcome::acknowledged(); });
  app a(cfg, app_overrides{std::move(out), nullptr, {}});
  const auto r = a.run();
  EXPECT_EQ(r.code, exit_code::runtime_failure);
  EXPECT_EQ(r.message, "401 Unauthorized");
  const auto& s = a.stats().sink;
  // Reading stopped long before the end, and what was read is accounted for.
  EXPECT_LT(a.stats().parse.events_out.load(), 20000u);
  EXPECT_EQ(s.events_out.load() + s.undelivered_events.load(), a.stats().parse.events_out.load());
}

// The checkpoint never passes an event its sink has not acknowledged: a send held
// unanswered keeps the checkpoint before its first event through a drain that times out,
// and the next run delivers it (nothing lost).
TEST(sink_stage, checkpoint_never_passes_an_unacknowledged_event) {
  temp_dir dir;
  const auto input = numbered_lines(3000);
  auto cfg = small_batches(dir.file("in.ndjson", input));
  cfg.checkpoint = (dir.path() / "state.json").string();
  cfg.drain_timeout_s = 0.2;
  cfg.sink_tokens = 4;
  const std::string held_line = testing::numbered_line(700);
  auto out = std::make_unique<async_sink>(
      9, async_sink::policy{}, [&](const send_request& s) { return s.bytes.find(held_line) != std::string_view::npos; });
  auto* view = out.get();
  auto first = std::make_unique<app>(cfg, app_overrides{std::move(out), nullptr, {}});
  std::atomic<bool> ran{false};
  run_result r1;
  std::thread t([&] {
    r1 = first->run();
    ran = true;
  });
  // The held send is out, and batches after it were acknowledged (out of order).
  const bool ready = eventually([&] {
    return view->pending() >= 1 && view->acknowledged_lines().size() >= 1000;
  });
  first->stop();
  t.join();
  ASSERT_TRUE(ready);
  ASSERT_TRUE(ran.load());
  const auto acked_first = view->acknowledged_lines();
  first.reset();  // lets go of the checkpoint's lock
  EXPECT_EQ(r1.code, exit_code::runtime_failure);
  EXPECT_GT(r1.undelivered, 0u);
  EXPECT_EQ(std::count(acked_first.begin(), acked_first.end(), held_line), 0);

  std::ifstream state(cfg.checkpoint);
  std::stringstream saved;
  saved << state.rdbuf();
  const auto at = saved.str().find("\"offset\":");
  ASSERT_NE(at, std::string::npos) << saved.str();
  const auto offset = std::stoull(saved.str().substr(at + 9));
  EXPECT_LE(offset, input.find(held_line)) << "the checkpoint passed an unacknowledged event";

  // The next run starts at the checkpoint: the held event and everything after it come.
  auto rec = std::make_unique<recording_output>();
  auto* again = rec.get();
  config cfg2 = cfg;
  app second(cfg2, app_overrides{std::make_unique<file_sink>(std::move(rec)), nullptr, {}});
  EXPECT_EQ(second.run().code, exit_code::ok);
  const auto rest = lines_of(again->text());
  EXPECT_EQ(again->text(), input.substr(offset));
  std::set<std::string> seen(acked_first.begin(), acked_first.end());
  seen.insert(rest.begin(), rest.end());
  EXPECT_EQ(seen.size(), 3000u) << "an event was lost between the two runs";
}

}  // namespace
}  // namespace sluice
