// Token buckets for --rate (events) and --rate-bytes (DESIGN.md §2.5). Time is passed in,
// never read here, so the arithmetic is tested against an injected clock.
// A bucket starts full. A cost larger than what the bucket can hold is allowed once the
// bucket is full and leaves it in debt: a huge event is late, never stuck.
#pragma once

#include <cstdint>

namespace sluice {

class token_bucket {
 public:
  // rate: tokens per second (0: unlimited); burst: the most tokens held.
  token_bucket(double rate, double burst, std::int64_t now_ns);

  bool unlimited() const { return rate_ <= 0; }
  // Takes `cost` tokens if they are there (or the bucket is full); false otherwise.
  bool try_take(double cost, std::int64_t now_ns);
  // How many whole units of `unit_cost` could be taken now.
  std::uint64_t available(double unit_cost, std::int64_t now_ns);
  // Nanoseconds from now until `cost` could be taken (0 if it can be now).
  std::int64_t wait_ns(double cost, std::int64_t now_ns);
  double tokens(std::int64_t now_ns);
  double burst() const { return burst_; }
  double rate() const { return rate_; }

 private:
  void refill(std::int64_t now_ns);
  double rate_;
  double burst_;
  double tokens_;
  std::int64_t last_ns_;
};

}  // namespace sluice
