#include "sluice/source/source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/errors.hpp"
#include "sluice/source/checkpoint.hpp"
#include "sluice/stats.hpp"

namespace sluice {

long fd_stream::read(char* dst, std::size_t n) {
  for (;;) {
    if (pollable_) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return -1;
      }
      if (fds[1].revents != 0) return 0;  // stop(): treated as the end of the input
    }
    const ssize_t got = ::read(fd_, dst, n);
    if (got >= 0) return static_cast<long>(got);
    if (errno == EINTR || errno == EAGAIN) continue;
    return -1;
  }
}

source::source(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints)
    : cfg_(cfg), stats_(stats), checkpoints_(checkpoints) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw startup_error(std::string("eventfd: ") + std::strerror(errno));
}

source::~source() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void source::stop() {
  stop_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
}

void source::input_failed() {
  failed_inputs_.fetch_add(1, std::memory_order_relaxed);
  bump(stats_.inputs_failed);
  bump(stats_.component.errors("input_failed"));
}

const input_source& source::add_source(std::string name, std::string identity) {
  return sources_.emplace_back(input_source{std::move(name), std::move(identity)});
}

void source::finished(const batch& b) {
  if (checkpoints_ == nullptr) return;
  finished_batch f{b.origin, std::nullopt, b.given_up};
  if (b.origin != nullptr && !b.origin->identity.empty()) {
    if (b.delivered) {
      f.commit = b.end_offset;
    } else if (b.events_written > 0 && b.events_written <= b.event_ends.size()) {
      // Written in part (a drain that timed out): just past the last event written.
      f.commit = b.offset + b.event_ends[b.events_written - 1];
    }
  }
  std::lock_guard lock(finished_mutex_);
  finished_early_.emplace(b.seq, f);
  for (auto it = finished_early_.begin(); it != finished_early_.end() && it->first == next_to_commit_;
       it = finished_early_.erase(it)) {
    ++next_to_commit_;
    const finished_batch& done = it->second;
    if (given_up_.count(done.origin) != 0) continue;
    if (done.commit) checkpoints_->commit(done.origin->identity, done.origin->name, *done.commit);
    if (done.given_up) given_up_.insert(done.origin);
  }
}

std::optional<line_framer::status> source::read_batch(emitter& h, line_framer& framer, byte_stream& in,
                                                            const input_source& src, bool finish) {
  batch* b = acquire(h);
  if (b == nullptr) return std::nullopt;  // stopping
  const std::uint64_t before = framer.bytes_read();
  const auto status = finish ? framer.finish(*b) : framer.fill(in, *b);
  bump(stats_.bytes_in, framer.bytes_read() - before);
  bump(stats_.component.received_bytes, framer.bytes_read() - before);
  b->source_name = src.name;
  b->origin = &src;
  if (b->size > 0) {
    h.emit(b);
  } else {
    h.give_back(b);
  }
  return status;
}

}  // namespace sluice
