#include "sluice/source.hpp"

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

input_reader::input_reader(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints)
    : cfg_(cfg), stats_(stats), checkpoints_(checkpoints) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw startup_error(std::string("eventfd: ") + std::strerror(errno));
}

input_reader::~input_reader() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void input_reader::stop() {
  stop_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
}

void input_reader::input_failed() {
  failed_inputs_.fetch_add(1, std::memory_order_relaxed);
  bump(stats_.inputs_failed);
  bump(stats_.component.errors("input_failed"));
}

const input_source& input_reader::add_source(std::string name, std::string identity) {
  return sources_.emplace_back(input_source{std::move(name), std::move(identity)});
}

void input_reader::finished(const batch& b) {
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

std::optional<line_framer::status> input_reader::read_batch(const handoff& h, line_framer& framer, byte_stream& in,
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
    b->seq = seq_++;
    b->handed_at_ns = now_ns();
    bump(stats_.batches_out);
    bump(stats_.component.sent_bytes, b->size);
    h.emit(b);
  } else {
    h.give_back(b);
  }
  return status;
}

file_reader::file_reader(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints)
    : input_reader(cfg, stats, checkpoints) {}

std::string_view file_reader::type() const {
  const bool only_stdin = std::all_of(cfg_.inputs.begin(), cfg_.inputs.end(), [](const std::string& p) { return p == "-"; });
  return only_stdin ? "stdin" : "file";
}

std::uint64_t file_reader::run(const handoff& h) {
  std::vector<std::string> paths = cfg_.inputs;
  if (paths.empty()) paths.push_back("-");
  for (std::size_t i = 0; i < paths.size() && !stopping(); ++i) {
    const bool is_stdin = paths[i] == "-";
    const int fd = is_stdin ? STDIN_FILENO : ::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      spdlog::error("cannot open {}: {}", paths[i], std::strerror(errno));
      input_failed();
      continue;
    }
    if (!read_input(paths[i], fd, h)) input_failed();
    if (!is_stdin) ::close(fd);
  }
  return seq_;
}

bool file_reader::read_input(const std::string& path, int fd, const handoff& h) {
  const std::string name = path == "-" ? "stdin" : path;
  struct stat st {};
  bool pollable = true;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      spdlog::error("cannot read {}: it is a directory", name);
      return false;
    }
    pollable = !S_ISREG(st.st_mode);
    // A bigger pipe lets the writer run ahead while a batch is cut (DESIGN.md §1); the
    // size comes from the config so it stays within the read-ahead it feeds.
    if (S_ISFIFO(st.st_mode)) ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(cfg_.pipe_bytes()));
  }
  // A regular file a checkpoint knows continues where the last run finished with it.
  std::string identity;
  std::uint64_t start = 0;
  if (checkpoints_ != nullptr && !pollable) {
    if (auto id = file_identity(fd)) {
      identity = *id;
      if (auto off = checkpoints_->offset(identity)) {
        start = std::min<std::uint64_t>(*off, static_cast<std::uint64_t>(st.st_size));
        if (::lseek(fd, static_cast<off_t>(start), SEEK_SET) < 0) start = 0;
      }
    }
  }
  const input_source& src = add_source(name, identity);
  fd_stream in(fd, wake_fd_);
  in.set_pollable(pollable);
  line_framer framer(cfg_.batch_bytes, cfg_.max_line_bytes);
  framer.start_input(start);
  // With a checkpoint a file may still be written to: an unterminated last line is held
  // back (and not checkpointed) so the next run reads it whole instead of in two pieces.
  framer.set_follow(checkpoints_ != nullptr && !pollable);
  for (;;) {
    const auto status = read_batch(h, framer, in, src);
    if (!status || *status == line_framer::status::ended) return true;
    if (*status == line_framer::status::idle) {
      if (framer.holding())
        spdlog::warn("{}: its last line has no newline yet; left for the next run (--checkpoint)", name);
      return true;
    }
    if (*status == line_framer::status::failed) {
      spdlog::error("reading {}: {}{}", name, std::strerror(framer.last_errno()),
                    framer.discarded() ? fmt::format(" ({} bytes of an unfinished line dropped)", framer.discarded())
                                       : std::string());
      return false;
    }
    if (stopping()) return true;
  }
}

}  // namespace sluice
