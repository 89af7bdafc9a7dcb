// A sink that answers later, from a thread of its own, in an order of its choosing, and
// sometimes asks for a retry: the fake that proves the sink stage's contract for sinks
// that acknowledge later (HTTP, Kafka). What it acknowledges it keeps, per send.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sluice/sink/sink.hpp"

namespace sluice::testing {

class async_sink final : public sink {
 public:
  // What to answer to a send; by default, acknowledged.
  using policy = std::function<send_outcome(const send_request&)>;
  // Whether a send is held (never answered) for now.
  using hold = std::function<bool(const send_request&)>;

  struct sent_record {
    std::uint64_t id;
    unsigned attempt;
    std::chrono::steady_clock::time_point at;
  };

  explicit async_sink(unsigned seed = 1, policy answer = {}, hold held = {})
      : rng_(seed), answer_(std::move(answer)), held_(std::move(held)), worker_([this] { work(); }) {}
  ~async_sink() override { stop(); }

  void send(const send_request& r) override {
    std::lock_guard lock(mutex_);
    pending_.push_back({r.id, r.bytes, r.events, r.attempt});
    sends_.push_back({r.id, r.attempt, std::chrono::steady_clock::now()});
    max_pending_ = std::max(max_pending_, pending_.size());
    cv_.notify_all();
  }
  void stop() override {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
      cv_.notify_all();
    }
    worker_.join();
  }
  std::string_view type() const override { return "test"; }
  std::string describe() const override { return "async test sink"; }

  // Lines acknowledged, in the order they were.
  std::vector<std::string> acknowledged_lines() const {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  std::vector<sent_record> sends() const {
    std::lock_guard lock(mutex_);
    return sends_;
  }
  // When retry outcomes with a Retry-After were reported, and for how long.
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::chrono::nanoseconds>> retry_afters() const {
    std::lock_guard lock(mutex_);
    return retry_afters_;
  }
  std::size_t max_pending() const {
    std::lock_guard lock(mutex_);
    return max_pending_;
  }
  std::size_t pending() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }
  std::size_t answered() const {
    std::lock_guard lock(mutex_);
    return answered_;
  }

 private:
  struct job {
    std::uint64_t id;
    std::string_view bytes;
    std::uint64_t events;
    unsigned attempt;
  };

  // Answers a random pending send every little while: late, and out of order.
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait_for(lock, std::chrono::microseconds(200 + rng_() % 800));
      if (stopped_) return;
      std::vector<std::size_t> ready;
      for (std::size_t i = 0; i < pending_.size(); ++i) {
        const send_request r{pending_[i].id, pending_[i].bytes, pending_[i].events, pending_[i].attempt};
        if (!held_ || !held_(r)) ready.push_back(i);
      }
      if (ready.empty()) continue;
      const std::size_t at = ready[rng_() % ready.size()];
      const job j = pending_[at];
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(at));
      const send_request r{j.id, j.bytes, j.events, j.attempt};
      send_outcome o = answer_ ? answer_(r) : send_outcome::acknowledged();
      if (o.what == send_outcome::kind::acknowledged) {
        for (std::size_t p = 0; p < j.bytes.size();) {
          const auto nl = j.bytes.find('\n', p);
          acked_.emplace_back(j.bytes.substr(p, nl - p));
          p = nl + 1;
        }
      }
      if (o.what == send_outcome::kind::retry && o.retry_after.count() >= 0)
        retry_afters_.emplace_back(std::chrono::steady_clock::now(), o.retry_after);
      ++answered_;
      // Reported while holding the lock: after stop() returns nothing is reported.
      report(j.id, std::move(o));
    }
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::minstd_rand rng_;
  policy answer_;
  hold held_;
  std::vector<job> pending_;
  std::vector<sent_record> sends_;
  std::vector<std::string> acked_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::chrono::nanoseconds>> retry_afters_;
  std::size_t max_pending_ = 0;
  std::size_t answered_ = 0;
  bool stopped_ = false;
  std::thread worker_;  // last: started once everything above is built
};

}  // namespace sluice::testing
