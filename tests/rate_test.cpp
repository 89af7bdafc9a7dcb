// token_bucket: the arithmetic behind --rate and --rate-bytes (DESIGN.md §2.5), driven by
// an injected clock (nanoseconds), so nothing here sleeps.
#include "sluice/rate.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using sluice::token_bucket;

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t sec = 1'000'000'000;

TEST(TokenBucket, StartsFullAndTryTakeDrainsIt) {
  token_bucket b(10, 5, 0);
  EXPECT_FALSE(b.unlimited());
  EXPECT_DOUBLE_EQ(b.rate(), 10);
  EXPECT_DOUBLE_EQ(b.burst(), 5);
  EXPECT_DOUBLE_EQ(b.tokens(0), 5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.try_take(1, 0)) << i;
  EXPECT_FALSE(b.try_take(1, 0));
  EXPECT_DOUBLE_EQ(b.tokens(0), 0);
}

TEST(TokenBucket, StartTimeIsTheGivenClock) {
  // Created at t = 100 s: no time has passed, so it holds its burst, not more.
  token_bucket b(4, 10, 100 * sec);
  EXPECT_DOUBLE_EQ(b.tokens(100 * sec), 10);
  ASSERT_TRUE(b.try_take(10, 100 * sec));
  EXPECT_NEAR(b.tokens(100 * sec + sec / 2), 2.0, 1e-9);
}

TEST(TokenBucket, RefillsAtRatePerSecond) {
  token_bucket b(4, 10, 0);
  ASSERT_TRUE(b.try_take(10, 0));
  EXPECT_NEAR(b.tokens(sec / 4), 1.0, 1e-9);
  EXPECT_NEAR(b.tokens(sec / 2), 2.0, 1e-9);
  EXPECT_NEAR(b.tokens(sec), 4.0, 1e-9);
  EXPECT_NEAR(b.tokens(2 * sec), 8.0, 1e-9);
  EXPECT_NEAR(b.tokens(2 * sec + 100 * ms), 8.4, 1e-9);
}

TEST(TokenBucket, NeverExceedsBurst) {
  token_bucket b(1000, 50, 0);
  EXPECT_DOUBLE_EQ(b.tokens(3600 * sec), 50);
  ASSERT_TRUE(b.try_take(30, 3600 * sec));
  EXPECT_NEAR(b.tokens(3600 * sec + 10 * ms), 30.0, 1e-9);
  EXPECT_DOUBLE_EQ(b.tokens(3601 * sec), 50);
  // Being full for a long time saves nothing: 51 is never available at once...
  EXPECT_EQ(b.available(1, 7200 * sec), 50u);
  // ...and after taking 50, only what has refilled since is there.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(b.try_take(1, 7200 * sec));
  EXPECT_FALSE(b.try_take(1, 7200 * sec));
  EXPECT_NEAR(b.tokens(7200 * sec + 5 * ms), 5.0, 1e-9);
}

TEST(TokenBucket, ClockGoingBackwardsAddsNothing) {
  token_bucket b(4, 10, 0);
  ASSERT_TRUE(b.try_take(10, sec));  // full at 1 s (no refill past burst)
  EXPECT_DOUBLE_EQ(b.tokens(sec / 2), 0);
  EXPECT_NEAR(b.tokens(sec + sec / 2), 2.0, 1e-9);
}

TEST(TokenBucket, WaitNs) {
  token_bucket b(4, 10, 0);
  EXPECT_EQ(b.wait_ns(1, 0), 0);
  EXPECT_EQ(b.wait_ns(10, 0), 0);
  ASSERT_TRUE(b.try_take(10, 0));
  EXPECT_NEAR(b.wait_ns(1, 0), 250 * ms, 1);
  EXPECT_NEAR(b.wait_ns(3, 0), 750 * ms, 1);
  EXPECT_NEAR(b.wait_ns(10, 0), 2500 * ms, 1);
  // A cost above the burst waits for a full bucket, not for the impossible.
  EXPECT_NEAR(b.wait_ns(25, 0), 2500 * ms, 1);
  // Part of the way there.
  EXPECT_NEAR(b.wait_ns(1, 100 * ms), 150 * ms, 1);
  EXPECT_EQ(b.wait_ns(1, 250 * ms), 0);
  // Waiting as told is enough.
  const std::int64_t w = b.wait_ns(2, 250 * ms);
  EXPECT_NEAR(w, 250 * ms, 1);
  EXPECT_FALSE(b.try_take(2, 250 * ms + w - 2));
  EXPECT_TRUE(b.try_take(2, 250 * ms + w));
}

TEST(TokenBucket, CostAboveBurstOnlyWhenFullThenDebt) {
  token_bucket b(10, 5, 0);
  ASSERT_TRUE(b.try_take(1, 0));  // 4 left: not full
  EXPECT_FALSE(b.try_take(8, 0));
  EXPECT_NEAR(b.wait_ns(8, 0), 100 * ms, 1);  // until full
  EXPECT_FALSE(b.try_take(8, 50 * ms));
  ASSERT_TRUE(b.try_take(8, 100 * ms));       // full: allowed, into debt
  EXPECT_NEAR(b.tokens(100 * ms), -3.0, 1e-9);
  EXPECT_EQ(b.available(1, 100 * ms), 0u);
  // The next event waits for the debt to be repaid: 4 tokens at 10/s.
  EXPECT_FALSE(b.try_take(1, 100 * ms));
  EXPECT_NEAR(b.wait_ns(1, 100 * ms), 400 * ms, 1);
  EXPECT_FALSE(b.try_take(1, 400 * ms));  // at 0.4 s: 0 tokens
  EXPECT_NEAR(b.tokens(400 * ms), 0.0, 1e-9);
  EXPECT_TRUE(b.try_take(1, 500 * ms));
  EXPECT_NEAR(b.tokens(500 * ms), 0.0, 1e-9);
}

TEST(TokenBucket, HugeCostNeverStuck) {
  // A byte bucket: 1000 B/s, burst 100 B, and an event of 250 B.
  token_bucket b(1000, 100, 0);
  ASSERT_TRUE(b.try_take(250, 0));
  EXPECT_NEAR(b.tokens(0), -150.0, 1e-9);
  EXPECT_NEAR(b.wait_ns(250, 0), 250 * ms, 1);  // (100 - -150) / 1000 s
  EXPECT_FALSE(b.try_take(250, 249 * ms));
  EXPECT_TRUE(b.try_take(250, 250 * ms));
  EXPECT_NEAR(b.wait_ns(10, 250 * ms), 160 * ms, 1);  // (10 - -150) / 1000 s
}

TEST(TokenBucket, Available) {
  token_bucket b(4, 10, 0);
  EXPECT_EQ(b.available(1, 0), 10u);
  EXPECT_EQ(b.available(3, 0), 3u);
  EXPECT_EQ(b.available(11, 0), 0u);
  ASSERT_TRUE(b.try_take(10, 0));
  EXPECT_EQ(b.available(1, 0), 0u);
  EXPECT_EQ(b.available(1, 625 * ms), 2u);  // 2.5 tokens
  EXPECT_EQ(b.available(2, 625 * ms), 1u);
  EXPECT_EQ(b.available(1, 600 * sec), 10u);
  // available() does not take anything.
  EXPECT_EQ(b.available(1, 600 * sec), 10u);
}

TEST(TokenBucket, UnlimitedAlwaysAllows) {
  token_bucket b(0, 0, 0);
  EXPECT_TRUE(b.unlimited());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.try_take(1e9, 0));
  EXPECT_EQ(b.wait_ns(1e12, 0), 0);
  EXPECT_EQ(b.available(1, 0), UINT64_MAX);
}

TEST(TokenBucket, BurstIsAtLeastOne) {
  token_bucket b(10, 0.2, 0);
  EXPECT_DOUBLE_EQ(b.burst(), 1);
  EXPECT_TRUE(b.try_take(1, 0));
  EXPECT_FALSE(b.try_take(1, 0));
  EXPECT_NEAR(b.wait_ns(1, 0), 100 * ms, 1);
}

TEST(TokenBucket, BackloggedConsumerGetsRateTimesTimePlusBurst) {
  // A consumer that always has events takes one whenever the bucket allows, and
  // otherwise sleeps exactly as long as wait_ns says.
  token_bucket b(5000, 500, 0);
  std::int64_t now = 0;
  std::uint64_t taken = 0;
  std::uint64_t wasted_wakeups = 0;
  const std::int64_t end = 10 * sec;
  while (now <= end) {
    if (b.try_take(1, now)) {
      ++taken;
      continue;
    }
    const std::int64_t w = b.wait_ns(1, now);
    ASSERT_GT(w, 0) << "try_take refused but wait_ns says go";
    now += w;
    if (now <= end && !b.try_take(1, now)) {
      ++wasted_wakeups;  // waited as told, and still could not take
      continue;
    }
    if (now <= end) ++taken;
  }
  EXPECT_NEAR(static_cast<double>(taken), 5000.0 * 10 + 500, 1.0);
  EXPECT_EQ(wasted_wakeups, 0u);
}

TEST(TokenBucket, BackloggedBatchesAtFractionalRate) {
  // 100/m (as --rate 100/m gives) with a burst of 1, taking what available() allows.
  token_bucket b(100.0 / 60, 1, 0);
  std::int64_t now = 0;
  std::uint64_t taken = 0;
  while (now <= 600 * sec) {
    const auto n = b.available(1, now);
    if (n > 0) {
      ASSERT_TRUE(b.try_take(static_cast<double>(n), now));
      taken += n;
      continue;
    }
    now += b.wait_ns(1, now);
  }
  // 10 minutes: 1000 events plus the one the full bucket held at the start.
  EXPECT_NEAR(static_cast<double>(taken), 1001.0, 1.0);
}

}  // namespace
