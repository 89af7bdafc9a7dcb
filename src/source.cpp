#include "sluice/source.hpp"

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

reader::reader(const config& cfg, reader_stats& stats) : cfg_(cfg), stats_(stats) {
  paths_ = cfg.inputs;
  if (paths_.empty()) paths_.push_back("-");
  for (const auto& p : paths_) names_.push_back(p == "-" ? "stdin" : p);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw startup_error(std::string("eventfd: ") + std::strerror(errno));
}

reader::~reader() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void reader::stop() {
  stop_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
}

std::uint64_t reader::run(const handoff& h) {
  for (std::uint32_t i = 0; i < paths_.size() && !stopping(); ++i) {
    const bool is_stdin = paths_[i] == "-";
    const int fd = is_stdin ? STDIN_FILENO : ::open(paths_[i].c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      spdlog::error("cannot open {}: {}", paths_[i], std::strerror(errno));
      ++failed_inputs_;
      bump(stats_.inputs_failed);
      continue;
    }
    if (!read_input(i, fd, h)) {
      ++failed_inputs_;
      bump(stats_.inputs_failed);
    }
    if (!is_stdin) ::close(fd);
  }
  return seq_;
}

bool reader::read_input(std::uint32_t index, int fd, const handoff& h) {
  struct stat st {};
  bool pollable = true;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      spdlog::error("cannot read {}: it is a directory", names_[index]);
      return false;
    }
    pollable = !S_ISREG(st.st_mode);
    // A bigger pipe lets the writer run ahead while a batch is cut (DESIGN.md §1); the
    // size comes from the config so it stays within the read-ahead it feeds.
    if (S_ISFIFO(st.st_mode)) ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(cfg_.pipe_bytes()));
  }
  fd_stream in(fd, wake_fd_);
  in.set_pollable(pollable);
  line_framer framer(cfg_.batch_bytes, cfg_.max_line_bytes);
  framer.start_input();
  for (;;) {
    batch* b = h.acquire();
    if (b == nullptr) return true;  // stopping
    const std::uint64_t before = framer.bytes_read();
    const auto status = framer.fill(in, *b);
    bump(stats_.bytes_in, framer.bytes_read() - before);
    b->source = index;
    if (b->size > 0) {
      b->seq = seq_++;
      b->handed_at_ns = now_ns();
      bump(stats_.batches_out);
      h.emit(b);
    } else {
      h.give_back(b);
    }
    if (status == line_framer::status::ended) return true;
    if (status == line_framer::status::failed) {
      spdlog::error("reading {}: {}{}", names_[index], std::strerror(framer.last_errno()),
                    framer.discarded() ? fmt::format(" ({} bytes of an unfinished line dropped)", framer.discarded())
                                       : std::string());
      return false;
    }
    if (stopping()) return true;
  }
}

}  // namespace sluice
