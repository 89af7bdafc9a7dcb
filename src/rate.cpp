#include "sluice/rate.hpp"

#include <algorithm>
#include <cmath>

namespace sluice {

token_bucket::token_bucket(double rate, double burst, std::int64_t now_ns)
    : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_), last_ns_(now_ns) {}

void token_bucket::refill(std::int64_t now_ns) {
  if (now_ns <= last_ns_) return;
  tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now_ns - last_ns_) * 1e-9);
  last_ns_ = now_ns;
}

double token_bucket::tokens(std::int64_t now_ns) {
  refill(now_ns);
  return tokens_;
}

bool token_bucket::try_take(double cost, std::int64_t now_ns) {
  if (unlimited()) return true;
  refill(now_ns);
  // A cost above the burst could never be met: it goes once the bucket is full, into debt.
  if (tokens_ >= cost || tokens_ >= burst_) {
    tokens_ -= cost;
    return true;
  }
  return false;
}

std::uint64_t token_bucket::available(double unit_cost, std::int64_t now_ns) {
  if (unlimited()) return UINT64_MAX;
  refill(now_ns);
  if (tokens_ < unit_cost) return 0;
  return static_cast<std::uint64_t>(std::floor(tokens_ / unit_cost));
}

std::int64_t token_bucket::wait_ns(double cost, std::int64_t now_ns) {
  if (unlimited()) return 0;
  refill(now_ns);
  const double need = std::min(cost, burst_) - tokens_;
  if (need <= 0) return 0;
  // A slow rate with a large burst could need more nanoseconds than an int64 holds: wait
  // at most an hour at a time (the caller asks again).
  return static_cast<std::int64_t>(std::min(std::ceil(need / rate_ * 1e9), 3.6e12));
}

}  // namespace sluice
