#include "sluice/sink/sink_stage.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/parse.hpp"

namespace sluice {

namespace {
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
}  // namespace

std::chrono::nanoseconds retry_policy::backoff(unsigned attempt, std::minstd_rand& rng) const {
  const auto shift = std::min(attempt == 0 ? 0u : attempt - 1, 40u);
  const double ceiling = std::min(static_cast<double>(max_backoff.count()),
                                  static_cast<double>(initial_backoff.count()) * static_cast<double>(1ull << shift));
  std::uniform_real_distribution<double> jitter(0.0, ceiling);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(jitter(rng)));
}

sink_stage::sink_stage(const config& cfg, std::unique_ptr<sink> out, std::unique_ptr<output> dead,
                       sink_stats& stats, std::function<void(batch*)> done, retry_policy retry)
    : cfg_(cfg),
      out_(std::move(out)),
      dead_(std::move(dead)),
      dead_format_(cfg.dead_letter_fmt),
      stats_(stats),
      done_(std::move(done)),
      retry_(retry),
      rng_(std::random_device{}()),
      events_(cfg.rate, cfg.event_burst(), now_ns()),
      bytes_(cfg.rate_bytes, cfg.byte_burst(), now_ns()),
      durable_interval_ns_(static_cast<std::int64_t>(cfg.checkpoint_interval_s * 1e9)) {
  stats_.rate = cfg.rate;
  stats_.rate_bytes = cfg.rate_bytes;
  out_->bind(*this);
}

sink_stage::~sink_stage() {
  close();
  join();
  // The sink goes first: once stopped it reports nothing more, so no report() can come
  // after the mutex it locks is gone.
  if (out_) out_->stop();
  out_.reset();
  // A push() or report() whose work is already handled may still be inside its notify.
  while (calling_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

void sink_stage::start() {
  thread_ = std::thread([this] {
    // Component code runs here: nothing may escape the thread (std::terminate).
    try {
      loop();
    } catch (const std::exception& e) {
      fail(sink_status::failed, fmt::format("sink {}: {}", out_->describe(), e.what()));
      give_up_outstanding();
    }
  });
}

// Notified after unlocking, so the woken stage thread does not block on the mutex at
// once. The batch may be finished, and the pipeline end, before notify_one() returns:
// `calling_` makes the destructor wait.
void sink_stage::push(batch* b) {
  calling_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(b);
    ++pushed_;
  }
  cv_.notify_one();
  calling_.fetch_sub(1, std::memory_order_release);
}

void sink_stage::report(std::uint64_t id, send_outcome outcome) {
  calling_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    outcomes_.push_back({id, std::move(outcome)});
  }
  cv_.notify_one();
  calling_.fetch_sub(1, std::memory_order_release);
}

void sink_stage::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  cv_.notify_all();
}

void sink_stage::join() {
  if (thread_.joinable()) thread_.join();
}

void sink_stage::abandon() {
  abandoned_.store(true, std::memory_order_release);
  std::lock_guard lock(mutex_);
  cv_.notify_all();
}

void sink_stage::request_reopen() {
  reopen_.store(true, std::memory_order_release);
  std::lock_guard lock(mutex_);
  cv_.notify_all();
}

std::size_t sink_stage::unfinished() {
  std::lock_guard lock(mutex_);
  return pushed_ - done_count_;
}

void sink_stage::loop() {
  for (;;) {
    take_outcomes();
    if (abandoned_.load(std::memory_order_acquire)) give_up_outstanding();
    reopen_outputs_if_asked();
    const std::int64_t next_send = send_due(now_ns());
    take_outcomes();
    durable_point_if_due(false);
    // A retry asked for by an outcome taken just now is not in next_send: look again.
    const auto now = now_ns();
    const std::int64_t retry_at = earliest_retry();
    if (retry_at <= now) continue;

    std::unique_lock lock(mutex_);
    // New batches are worth waking for only when a part could be cut from one now.
    const bool can_take = !rate_blocked_ && now >= paused_until_ns_ &&
                          (open_.empty() || open_.back().cut == open_.back().b->out.size());
    auto ready = [&] {
      return !outcomes_.empty() || (can_take && !queue_.empty()) || (closed_ && queue_.empty() && open_.empty()) ||
             reopen_.load(std::memory_order_acquire) ||
             (abandoned_.load(std::memory_order_acquire) && !open_.empty());
    };
    if (ready()) {
      if (closed_ && queue_.empty() && open_.empty() && outcomes_.empty()) break;
      continue;
    }
    std::int64_t until = std::min(next_send > 0 ? now + next_send : never, retry_at);
    const bool durable_pending = on_durable && since_durable_ > 0 && status_ == sink_status::ok;
    // Something was acknowledged since the last durable point: make it durable on time
    // even when nothing else comes.
    if (durable_pending) until = std::min(until, now + std::min<std::int64_t>(500'000'000, durable_interval_ns_ / 2));
    if (rate_blocked_) stats_.rate_wait.begin(now);
    bool timed_out = false;
    if (until == never) {
      cv_.wait(lock, ready);
    } else {
      timed_out = !cv_.wait_for(lock, std::chrono::nanoseconds(std::max<std::int64_t>(until - now, 1000)), ready);
    }
    if (rate_blocked_) stats_.rate_wait.end(now_ns());
    if (timed_out && durable_pending) {
      lock.unlock();
      durable_point_if_due(true);
    }
  }
  // What was acknowledged is made durable before the caller reports it.
  if (status_ == sink_status::ok) {
    out_->sync();
    if (dead_) dead_->sync();
    if (on_durable) on_durable();
  }
}

std::int64_t sink_stage::earliest_retry() const {
  if (status_ != sink_status::ok || abandoned_.load(std::memory_order_acquire)) return never;
  std::int64_t at = never;
  for (const auto& ob : open_)
    for (const auto& p : ob.parts)
      if (p.st == part::state::waiting && p.attempt > 0) at = std::min(at, std::max(p.not_before_ns, paused_until_ns_));
  return at;
}

bool sink_stage::take_outcomes() {
  {
    std::lock_guard lock(mutex_);
    if (outcomes_.empty()) return false;
    handling_.swap(outcomes_);
  }
  for (const auto& r : handling_) apply(r);
  handling_.clear();
  finish_ready_batches();
  return true;
}

void sink_stage::apply(const reported& r) {
  const auto it = sent_.find(r.id);
  if (it == sent_.end()) return;  // given up on (drain timeout, failure): too late
  auto [ob, index] = it->second;
  sent_.erase(it);
  part& p = ob->parts[index];
  const auto now = now_ns();
  switch (r.outcome.what) {
    case send_outcome::kind::acknowledged:
      p.st = part::state::acknowledged;
      bump(stats_.events_out, p.events);
      bump(stats_.bytes_out, p.end - p.begin);
      bump(stats_.component.sent_events, p.events);
      bump(stats_.component.sent_bytes, p.end - p.begin);
      stats_.wrote(p.events, now);
      return;
    case send_outcome::kind::retry: {
      bump(stats_.retries);
      bump(stats_.component.errors("retry"));
      if (retry_.max_retries > 0 && p.attempt >= retry_.max_retries) {
        p.st = part::state::rejected;
        dead_letter_rejected(*ob->b, std::string_view(ob->b->out).substr(p.begin, p.end - p.begin),
                             "delivery_failed", fmt::format("gave up after {} retries: {}", p.attempt, r.outcome.reason));
        bump(stats_.rejected_events, p.events);
      bump(stats_.component.discarded("rejected"), p.events);
        bump(stats_.component.discarded("rejected"), p.events);
        return;
      }
      std::int64_t wait = 0;
      if (r.outcome.retry_after.count() >= 0) {
        // The destination said when: nothing at all is sent before then.
        wait = std::min(r.outcome.retry_after, retry_.max_retry_after).count();
        paused_until_ns_ = std::max(paused_until_ns_, now + wait);
      } else {
        wait = retry_.backoff(p.attempt + 1, rng_).count();
      }
      if (p.attempt == 0 || retry_.max_retries == 0)
        spdlog::debug("sink {}: retrying {} events in {:.3f} s: {}", out_->describe(), p.events,
                      static_cast<double>(wait) / 1e9, r.outcome.reason);
      p.st = part::state::waiting;
      p.not_before_ns = now + wait;
      ++p.attempt;
      return;
    }
    case send_outcome::kind::rejected:
      p.st = part::state::rejected;
      dead_letter_rejected(*ob->b, std::string_view(ob->b->out).substr(p.begin, p.end - p.begin), "rejected",
                           r.outcome.reason);
      bump(stats_.rejected_events, p.events);
      bump(stats_.component.discarded("rejected"), p.events);
      return;
    case send_outcome::kind::failed:
    case send_outcome::kind::closed:
      p.st = part::state::lost;
      if (r.outcome.what == send_outcome::kind::failed) {
        count_undelivered(p.events);
        bump(stats_.component.errors("failed"));
      }
      fail(r.outcome.what == send_outcome::kind::failed ? sink_status::failed : sink_status::closed, r.outcome.reason);
      give_up_outstanding();
      return;
  }
}

std::int64_t sink_stage::send_due(std::int64_t now) {
  if (status_ != sink_status::ok || abandoned_.load(std::memory_order_acquire)) {
    give_up_outstanding();
    rate_blocked_ = false;  // nothing waits for tokens any more: new batches pass straight on
    return 0;
  }
  if (now < paused_until_ns_) return paused_until_ns_ - now;
  std::int64_t next = never;
  // Retries first: they are older than anything new. An outcome reported meanwhile (a
  // Retry-After, say) is handled before anything more is sent; it is taken after this
  // loop, as handling it may finish batches of open_.
  bool answered = false;
  for (auto& ob : open_) {
    for (std::size_t i = 0; i < ob.parts.size() && !answered; ++i) {
      part& p = ob.parts[i];
      if (p.st != part::state::waiting || p.attempt == 0) continue;
      if (p.not_before_ns > now) {
        next = std::min(next, p.not_before_ns);
        continue;
      }
      send(ob, p);
      std::lock_guard lock(mutex_);
      answered = !outcomes_.empty();
    }
    if (answered) break;
  }
  if (answered) return 1;  // handled by the loop at once, then sending goes on
  if (take_outcomes() && (status_ != sink_status::ok || now_ns() < paused_until_ns_)) return 0;
  rate_blocked_ = false;
  for (;;) {
    if (open_.empty() || open_.back().cut == open_.back().b->out.size()) {
      batch* b = nullptr;
      {
        std::lock_guard lock(mutex_);
        if (queue_.empty()) break;
        b = queue_.front();
        queue_.pop_front();
      }
      stats_.last_progress_ns.store(now_ns(), std::memory_order_relaxed);
      bump(stats_.batches_in);
      bump(stats_.events_in, b->counts.events);
      bump(stats_.component.received_events, b->counts.events);
      bump(stats_.component.received_bytes, b->out.size());
      auto& ob = open_.emplace_back();
      ob.b = b;
      if (dead_ && !b->dead.empty()) {
        if (dead_->write(b->dead) != write_status::ok) {
          fail(sink_status::failed, dead_->error());
          give_up_outstanding();
          return 0;
        }
        bump(stats_.dead_letter_lines, b->counts.invalid + b->counts.oversize);
      }
      if (b->out.empty()) {
        finish_ready_batches();
        continue;
      }
    }
    const std::int64_t wait = cut_next_part(open_.back(), now_ns());
    if (wait > 0) {
      rate_blocked_ = true;
      next = std::min(next, now_ns() + wait);
      break;
    }
    if (take_outcomes() && (status_ != sink_status::ok || now_ns() < paused_until_ns_)) return 0;
  }
  if (next == never) return 0;
  return std::max<std::int64_t>(next - now_ns(), 1);
}

std::int64_t sink_stage::cut_next_part(open_batch& ob, std::int64_t now) {
  const std::string_view bytes = ob.b->out;
  const std::uint64_t left = ob.b->counts.events - ob.cut_events;
  part p;
  p.begin = ob.cut;
  if (events_.unlimited() && bytes_.unlimited()) {
    p.end = bytes.size();
    p.events = left;
  } else {
    // Rate-limited: as many whole events as both buckets allow; the caller waits on this
    // thread (never a TBB worker) for more tokens.
    const std::uint64_t allowed = std::min(left, events_.available(1.0, now));
    if (allowed == 0) {
      // Wait for a chunk rather than a single token: at most ~100 wake-ups a second.
      const double chunk = std::clamp(events_.rate() * 0.01, 1.0, std::min<double>(static_cast<double>(left), events_.burst()));
      return std::max<std::int64_t>(events_.wait_ns(chunk, now), 1000);
    }
    std::size_t q = ob.cut;
    std::uint64_t taken = 0;
    std::size_t next_len = 0;
    while (taken < allowed && q < bytes.size()) {
      const auto* nl = static_cast<const char*>(std::memchr(bytes.data() + q, '\n', bytes.size() - q));
      const std::size_t next = nl ? static_cast<std::size_t>(nl - bytes.data()) + 1 : bytes.size();
      next_len = next - q;
      if (!bytes_.try_take(static_cast<double>(next_len), now)) break;
      q = next;
      ++taken;
    }
    if (taken == 0) return std::max<std::int64_t>(bytes_.wait_ns(static_cast<double>(next_len), now), 1000);
    events_.try_take(static_cast<double>(taken), now);
    p.end = q;
    p.events = taken;
  }
  ob.cut = p.end;
  ob.cut_events += p.events;
  p.id = next_id_++;
  ob.parts.push_back(p);
  send(ob, ob.parts.back());
  return 0;
}

void sink_stage::send(open_batch& ob, part& p) {
  p.st = part::state::sent;
  sent_.emplace(p.id, std::make_pair(&ob, static_cast<std::size_t>(&p - ob.parts.data())));
  const send_request r{p.id, std::string_view(ob.b->out).substr(p.begin, p.end - p.begin), p.events, p.attempt};
  const auto t0 = now_ns();
  out_->send(r);
  bump(stats_.write_ns, static_cast<std::uint64_t>(now_ns() - t0));
}

void sink_stage::finish_ready_batches() {
  for (auto it = open_.begin(); it != open_.end();) {
    const bool cut = it->cut == it->b->out.size();
    const bool final = std::none_of(it->parts.begin(), it->parts.end(), [](const part& p) {
      return p.st == part::state::waiting || p.st == part::state::sent;
    });
    if (cut && final) {
      finish(*it);
      it = open_.erase(it);
    } else {
      ++it;
    }
  }
}

void sink_stage::finish(open_batch& ob, bool given_up) {
  batch& b = *ob.b;
  std::uint64_t written = 0;
  bool whole = !given_up && ob.cut == b.out.size();
  for (const auto& p : ob.parts) {
    if (p.st != part::state::acknowledged && p.st != part::state::rejected) {
      whole = false;
      break;
    }
    written += p.events;
  }
  b.delivered = whole;
  b.events_written = written;
  b.given_up = given_up && !whole;
  if (whole) ++since_durable_;
  done_(&b);
  std::lock_guard lock(mutex_);
  ++done_count_;
}

void sink_stage::give_up_outstanding() {
  if (sent_.empty() && open_.empty()) {
    // Batches that arrive after a failure or a drain timeout are passed straight on.
    for (;;) {
      batch* b = nullptr;
      {
        std::lock_guard lock(mutex_);
        if (queue_.empty()) return;
        b = queue_.front();
        queue_.pop_front();
      }
      bump(stats_.batches_in);
      bump(stats_.events_in, b->counts.events);
      bump(stats_.component.received_events, b->counts.events);
      bump(stats_.component.received_bytes, b->out.size());
      if (status_ != sink_status::closed) count_undelivered(b->counts.events);
      open_batch ob;
      ob.b = b;
      finish(ob, true);
    }
  }
  if (!sent_.empty()) out_->stop();
  sent_.clear();
  for (auto& ob : open_) {
    std::uint64_t lost = ob.b->counts.events - ob.cut_events;
    for (auto& p : ob.parts) {
      if (p.st == part::state::waiting || p.st == part::state::sent) {
        p.st = part::state::lost;
        lost += p.events;
      }
    }
    if (status_ != sink_status::closed) count_undelivered(lost);
    finish(ob, true);
  }
  open_.clear();
  give_up_outstanding();
}

void sink_stage::dead_letter_rejected(const batch& b, std::string_view events, std::string_view reason,
                                      const std::string& error) {
  if (!dead_) {
    spdlog::warn("sink {}: {} events {} ({}); keep them with --dead-letter PATH", out_->describe(),
                 std::count(events.begin(), events.end(), '\n'), reason, error);
    return;
  }
  std::string records;
  std::size_t lines = 0;
  for (std::size_t at = 0; at < events.size();) {
    auto nl = events.find('\n', at);
    if (nl == std::string_view::npos) nl = events.size();
    const auto line = events.substr(at, nl - at);
    append_dead_letter_record(records, dead_format_, reason, error, b.source_name, b.offset, line.size(), line);
    ++lines;
    at = nl + 1;
  }
  if (dead_->write(records) != write_status::ok) {
    fail(sink_status::failed, dead_->error());
    return;
  }
  bump(stats_.dead_letter_lines, lines);
}

void sink_stage::reopen_outputs_if_asked() {
  if (!reopen_.exchange(false, std::memory_order_acq_rel)) return;
  out_->reopen();
  if (dead_) dead_->reopen();
}

void sink_stage::durable_point_if_due(bool idle) {
  if (!on_durable || since_durable_ == 0 || status_ != sink_status::ok) return;
  const auto now = now_ns();
  if (!idle && now - last_durable_ns_ < durable_interval_ns_) return;
  if (idle && now - last_durable_ns_ < durable_interval_ns_ / 4) return;
  // The outputs first, then what depends on them (the checkpoint): never ahead of the data.
  out_->sync();
  if (dead_) dead_->sync();
  if (on_durable()) since_durable_ = 0;  // else kept, so the save is tried again
  last_durable_ns_ = now;
}

void sink_stage::count_stuck(std::uint64_t events_read) {
  const std::uint64_t out = out_->events_out_of_send_in_progress();
  bump(stats_.events_out, out);
  bump(stats_.component.sent_events, out);
  const auto accounted = stats_.events_out.load() + stats_.undelivered_events.load() + stats_.dropped_events.load() +
                         stats_.rejected_events.load();
  if (events_read > accounted) count_undelivered(events_read - accounted);
}

void sink_stage::count_undelivered(std::uint64_t events) {
  bump(stats_.undelivered_events, events);
  bump(stats_.component.discarded("undelivered"), events);
}

void sink_stage::fail(sink_status st, const std::string& why) {
  if (status_ != sink_status::ok) return;
  status_ = st;
  error_ = why;
  if (on_stop) on_stop(st);
}

}  // namespace sluice
