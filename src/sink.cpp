#include "sluice/sink.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/errors.hpp"

namespace sluice {

write_status output::write(std::string_view bytes) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const long n = write_some(p, left);
    if (n >= 0) {
      p += n;
      left -= static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      // An output someone else set non-blocking: wait until it takes more.
      continue;
    }
    // A broken pipe on stdout means its reader is done (`sluice ... | head`): a normal
    // end, as for any Unix filter. On any other output it is a failure.
    if (errno == EPIPE && broken_pipe_is_end()) return write_status::closed;
    error_ = fmt::format("writing {}: {}", describe(), std::strerror(errno));
    return write_status::failed;
  }
  return write_status::ok;
}

fd_output::fd_output(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    fd_ = STDOUT_FILENO;
    is_stdout_ = true;
    return;
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw startup_error(fmt::format("cannot open {}: {}", path_, std::strerror(errno)));
}

fd_output::~fd_output() {
  if (!is_stdout_ && fd_ >= 0) ::close(fd_);
}

void fd_output::reopen() {
  if (is_stdout_) return;
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    spdlog::error("cannot reopen {}: {} (still writing to the old file)", path_, std::strerror(errno));
    return;
  }
  ::close(fd_);
  fd_ = fd;
}

void fd_output::sync() {
  // EINVAL: a pipe or a terminal, nothing to make durable.
  if (::fdatasync(fd_) != 0 && errno != EINVAL && errno != EROFS)
    spdlog::warn("fdatasync {}: {}", describe(), std::strerror(errno));
}

long fd_output::write_some(const char* data, std::size_t n) {
  if (is_stdout_) {
    // stdout may have been left non-blocking by whoever set it up: wait rather than spin.
    const ssize_t w = ::write(fd_, data, n);
    if (w < 0 && errno == EAGAIN) {
      pollfd pfd{fd_, POLLOUT, 0};
      ::poll(&pfd, 1, -1);
    }
    return w;
  }
  return ::write(fd_, data, n);
}

std::string fd_output::describe() const { return is_stdout_ ? "stdout" : path_; }

std::unique_ptr<output> open_output(const std::string& path) { return std::make_unique<fd_output>(path); }

sink_stage::sink_stage(const config& cfg, std::unique_ptr<output> out, std::unique_ptr<output> dead,
                       sink_stats& stats, std::function<void(batch*)> done)
    : durable_interval_ns(static_cast<std::int64_t>(cfg.checkpoint_interval_s * 1e9)),
      out_(std::move(out)),
      dead_(std::move(dead)),
      stats_(stats),
      done_(std::move(done)),
      events_(cfg.rate, cfg.event_burst(), now_ns()),
      bytes_(cfg.rate_bytes, cfg.byte_burst(), now_ns()) {
  stats_.rate = cfg.rate;
  stats_.rate_bytes = cfg.rate_bytes;
}

sink_stage::~sink_stage() {
  close();
  join();
  // A push() whose batch is already written may still be inside its notify.
  while (pushing_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

void sink_stage::start() {
  thread_ = std::thread([this] { loop(); });
}

// Notified after unlocking, so the woken sink thread does not block on the mutex at
// once (it cost a context switch more per batch). The batch may be written, and the
// pipeline finish, before notify_one() returns: `pushing_` makes the destructor wait.
void sink_stage::push(batch* b) {
  pushing_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(b);
  }
  cv_.notify_one();
  pushing_.fetch_sub(1, std::memory_order_release);
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

std::size_t sink_stage::queued() {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void sink_stage::loop() {
  for (;;) {
    batch* b = nullptr;
    {
      std::unique_lock lock(mutex_);
      auto ready = [&] { return !queue_.empty() || closed_ || reopen_.load(std::memory_order_acquire); };
      if (on_durable && since_durable_ > 0) {
        // Something was written since the last durable point: make it durable on time
        // even when no further batch comes.
        if (!cv_.wait_for(lock, std::chrono::milliseconds(500), ready)) {
          lock.unlock();
          durable_point_if_due(true);
          continue;
        }
      } else {
        cv_.wait(lock, ready);
      }
      if (queue_.empty() && !closed_) {
        // SIGHUP while idle: let go of the rotated file now, not at the next event.
        lock.unlock();
        reopen_outputs_if_asked();
        continue;
      }
      if (queue_.empty()) break;
      b = queue_.front();
      queue_.pop_front();
    }
    stats_.last_progress_ns.store(now_ns(), std::memory_order_relaxed);
    bump(stats_.batches_in);
    bump(stats_.events_in, b->counts.events);
    if (status_ == write_status::ok && !abandoned_.load(std::memory_order_acquire)) {
      write_batch(*b);
    } else if (status_ != write_status::closed) {
      bump(stats_.undelivered_events, b->counts.events);
    }
    if (b->delivered) ++since_durable_;
    done_(b);
    durable_point_if_due(false);
  }
  // What was counted as written is made durable before the caller reports it.
  if (status_ == write_status::ok) {
    out_->sync();
    if (dead_) dead_->sync();
    if (on_durable) on_durable();
  }
}

void sink_stage::durable_point_if_due(bool idle) {
  if (!on_durable || since_durable_ == 0 || status_ != write_status::ok) return;
  const auto now = now_ns();
  if (!idle && now - last_durable_ns_ < durable_interval_ns) return;
  if (idle && now - last_durable_ns_ < durable_interval_ns / 4) return;
  // The output first, then what depends on it (the checkpoint): never ahead of the data.
  out_->sync();
  if (dead_) dead_->sync();
  on_durable();
  since_durable_ = 0;
  last_durable_ns_ = now;
}

void sink_stage::write_batch(batch& b) {
  reopen_outputs_if_asked();
  if (dead_ && !b.dead.empty()) {
    const auto st = dead_->write(b.dead);
    if (st != write_status::ok) {
      finish_with_failure(write_status::failed, dead_->error());
      bump(stats_.undelivered_events, b.counts.events);
      return;
    }
    bump(stats_.dead_letter_lines, b.counts.invalid + b.counts.oversize);
  }
  const auto before = stats_.events_out.load(std::memory_order_relaxed);  // written by this thread only
  b.delivered = write_events(b.out, b.counts.events);
  b.events_written = stats_.events_out.load(std::memory_order_relaxed) - before;
}

void sink_stage::reopen_outputs_if_asked() {
  if (!reopen_.exchange(false, std::memory_order_acq_rel)) return;
  out_->reopen();
  if (dead_) dead_->reopen();
}

bool sink_stage::write_chunk(std::string_view chunk, std::uint64_t events, std::uint64_t at_stake) {
  const auto t0 = now_ns();
  const auto st = out_->write(chunk);
  bump(stats_.write_ns, static_cast<std::uint64_t>(now_ns() - t0));
  if (st != write_status::ok) {
    finish_with_failure(st, out_->error());
    bump(stats_.undelivered_events, at_stake);
    return false;
  }
  bump(stats_.events_out, events);
  bump(stats_.bytes_out, chunk.size());
  stats_.wrote(events, now_ns());
  return true;
}

bool sink_stage::write_events(std::string_view bytes, std::uint64_t events) {
  if (events_.unlimited() && bytes_.unlimited()) return write_chunk(bytes, events, events);
  // Rate-limited: write as many whole events as both buckets allow, then wait on this
  // thread (never a TBB worker) for more tokens.
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  std::uint64_t left = events;
  while (p < end && left > 0) {
    if (abandoned_.load(std::memory_order_acquire)) {
      bump(stats_.undelivered_events, left);
      return false;
    }
    const auto now = now_ns();
    const std::uint64_t allowed = std::min(left, events_.available(1.0, now));
    if (allowed == 0) {
      // Wait for a chunk rather than a single token: at most ~100 wake-ups a second.
      const double chunk = std::clamp(events_.rate() * 0.01, 1.0, std::min<double>(left, events_.burst()));
      wait_for(events_.wait_ns(chunk, now));
      continue;
    }
    const char* q = p;
    std::uint64_t taken = 0;
    std::size_t next_len = 0;
    while (taken < allowed && q < end) {
      const auto* nl = static_cast<const char*>(std::memchr(q, '\n', static_cast<std::size_t>(end - q)));
      const char* next = nl ? nl + 1 : end;
      next_len = static_cast<std::size_t>(next - q);
      if (!bytes_.try_take(static_cast<double>(next_len), now)) break;
      q = next;
      ++taken;
    }
    if (taken == 0) {
      wait_for(bytes_.wait_ns(static_cast<double>(next_len), now));
      continue;
    }
    events_.try_take(static_cast<double>(taken), now);
    if (!write_chunk({p, static_cast<std::size_t>(q - p)}, taken, left)) return false;
    left -= taken;
    p = q;
  }
  return true;
}

void sink_stage::wait_for(std::int64_t ns) {
  stats_.rate_wait.begin(now_ns());
  {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::nanoseconds(std::max<std::int64_t>(ns, 1000)),
                 [&] { return abandoned_.load(std::memory_order_acquire); });
  }
  stats_.rate_wait.end(now_ns());
}

void sink_stage::finish_with_failure(write_status st, const std::string& why) {
  status_ = st;
  error_ = why;
  if (on_stop) on_stop(st);
}

}  // namespace sluice
