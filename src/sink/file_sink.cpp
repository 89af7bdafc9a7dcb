#include "sluice/sink/file_sink.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/errors.hpp"

namespace sluice {

write_status output::write(std::string_view bytes) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  in_progress_out_.store(0, std::memory_order_relaxed);
  in_progress_.store(p, std::memory_order_release);
  while (left > 0) {
    const long n = write_some(p, left);
    if (n >= 0) {
      p += n;
      left -= static_cast<std::size_t>(n);
      in_progress_out_.store(bytes.size() - left, std::memory_order_release);
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
    undo_partial(bytes.size() - left);
    return write_status::failed;
  }
  return write_status::ok;
}

std::uint64_t output::lines_out_of_write_in_progress() const {
  const char* p = in_progress_.load(std::memory_order_acquire);
  const std::size_t out = in_progress_out_.load(std::memory_order_acquire);
  return p == nullptr ? 0 : static_cast<std::uint64_t>(std::count(p, p + out, '\n'));
}

fd_output::fd_output(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    fd_ = STDOUT_FILENO;
    is_stdout_ = true;
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISFIFO(st.st_mode)) {
      const int size = ::fcntl(fd_, F_GETPIPE_SZ);
      if (size > 0) pipe_bytes_ = static_cast<std::size_t>(size);
    }
    return;
  }
  fd_ = open_for_append();
  if (fd_ < 0) throw startup_error(fmt::format("cannot open {}: {}", path_, std::strerror(errno)));
  // A file cut mid-record (a crash, a full disk before this version) must not have our
  // first record glued to its last one.
  // (Read through a descriptor of its own: the output's is write-only.)
  struct stat st {};
  char last = '\n';
  if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    const int r = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (r >= 0) {
      if (::pread(r, &last, 1, st.st_size - 1) != 1) last = '\n';
      ::close(r);
    }
  }
  if (last != '\n') {
    spdlog::warn("{} does not end with a newline (a record cut short earlier): adding one before the first event",
                 path_);
    if (::write(fd_, "\n", 1) != 1)
      throw startup_error(fmt::format("cannot write to {}: {}", path_, std::strerror(errno)));
  }
}

int fd_output::open_for_append() const { return ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644); }

fd_output::~fd_output() {
  if (!is_stdout_ && fd_ >= 0) ::close(fd_);
}

void fd_output::reopen() {
  if (is_stdout_) return;
  const int fd = open_for_append();
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
  if (pipe_bytes_ > 0) n = std::min(n, pipe_bytes_);
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

void fd_output::undo_partial(std::size_t partial) {
  // Only sluice appends to its output, so the file's end minus what this write put out
  // is where the write began: the last whole event.
  struct stat st {};
  if (partial == 0 || ::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return;
  const off_t to = st.st_size - static_cast<off_t>(std::min<std::size_t>(partial, static_cast<std::size_t>(st.st_size)));
  if (::ftruncate(fd_, to) != 0)
    spdlog::error("cannot cut {} back to its last whole event ({} bytes): {}", path_, to, std::strerror(errno));
}

std::string fd_output::describe() const { return is_stdout_ ? "stdout" : path_; }

file_sink::file_sink(std::unique_ptr<output> out) : out_(std::move(out)) {
  type_ = out_->describe() == "stdout" ? "stdout" : "file";
}

void file_sink::send(const send_request& r) {
  switch (out_->write(r.bytes)) {
    case write_status::ok: report(r.id, send_outcome::acknowledged()); return;
    case write_status::closed: report(r.id, send_outcome::closed()); return;
    case write_status::failed: report(r.id, send_outcome::failed(out_->error())); return;
  }
}

std::unique_ptr<sink> make_file_sink(const std::string& address) {
  return std::make_unique<file_sink>(std::make_unique<fd_output>(address));
}

}  // namespace sluice
