#include "sluice/source/follow.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <string.h>  // memrchr
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "sluice/source/checkpoint.hpp"
#include "sluice/stats.hpp"

namespace sluice {

namespace {

// A rotated-away file is let go once it has been quiet this long (a slow writer may
// still append to it after the rename).
constexpr std::int64_t rotated_quiet_ns = 1'500'000'000;
// Batches read from one file before the others get their turn.
constexpr int batches_per_turn = 4;
constexpr int rescan_ms = 1000;

bool has_glob(const std::string& p) { return p.find_first_of("*?[") != std::string::npos; }

std::string dir_of(const std::string& p) {
  const auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

std::vector<std::string> expand(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  return out;
}

// Reads a followed file with pread at its own position, so the position is known
// without asking the kernel and never shared with anything else.
class file_stream final : public byte_stream {
 public:
  int fd = -1;
  std::uint64_t pos = 0;
  long read(char* dst, std::size_t n) override {
    for (;;) {
      const ssize_t got = ::pread(fd, dst, n, static_cast<off_t>(pos));
      if (got < 0 && errno == EINTR) continue;
      if (got > 0) pos += static_cast<std::uint64_t>(got);
      return static_cast<long>(got);
    }
  }
};

// Just past the last complete line of what fd holds up to `size` (where "the end" of a
// file is when following starts: a line still being written is read whole later).
std::uint64_t end_of_last_line(int fd, std::uint64_t size) {
  char buf[64 * 1024];
  std::uint64_t end = size;
  while (end > 0) {
    const std::uint64_t start = end > sizeof buf ? end - sizeof buf : 0;
    const ssize_t n = ::pread(fd, buf, end - start, static_cast<off_t>(start));
    if (n <= 0) return size;
    if (const auto* nl = static_cast<const char*>(memrchr(buf, '\n', static_cast<std::size_t>(n))))
      return start + static_cast<std::uint64_t>(nl - buf) + 1;
    end = start;
  }
  return 0;
}

}  // namespace

struct follow_reader::followed_file {
  followed_file(std::size_t batch_bytes, std::size_t max_line_bytes) : framer(batch_bytes, max_line_bytes) {
    framer.set_follow(true);
  }
  ~followed_file() {
    if (in.fd >= 0) ::close(in.fd);
  }
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
  file_stream in;
  line_framer framer;
  std::string identity;                // empty until the first line is complete
  const input_source* src = nullptr;   // the current content's source
  std::uint64_t last_size = 0;
  bool rotated = false;                // the path names another file now, or nothing
  bool duplicate = false;              // a copy of a content read from another file
  std::int64_t quiet_since_ns = 0;
};

follow_reader::follow_reader(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints)
    : input_reader(cfg, stats, checkpoints), patterns_(cfg.inputs) {
  if (cfg.poll_ms == 0) {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) spdlog::warn("inotify unavailable ({}): polling instead", std::strerror(errno));
  }
}

follow_reader::~follow_reader() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void follow_reader::watch_directories() {
  if (inotify_fd_ < 0) return;
  for (const auto& p : patterns_) {
    const auto dir = dir_of(p);
    // Watching a directory reports writes to, creation, renames and deletion of the files
    // in it: enough to wake for new data and for rotations.
    if (::inotify_add_watch(inotify_fd_, dir.c_str(),
                            IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE |
                                IN_ATTRIB) < 0 &&
        warned_.insert("watch:" + dir).second) {
      spdlog::warn("cannot watch {} ({}); noticing its changes by polling", dir, std::strerror(errno));
    }
  }
}

bool follow_reader::identity_active(const std::string& identity) const {
  return std::any_of(files_.begin(), files_.end(),
                     [&](const auto& f) { return !f->duplicate && f->identity == identity; });
}

void follow_reader::open_file(const std::string& path, bool first_start) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // gone again, or unreadable: the next scan tries again
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return;
  }
  std::string identity;
  std::uint64_t start = 0;
  if (auto id = file_identity(fd)) {
    identity = *id;
    if (identity_active(identity)) {
      // The same content is being read from another file (a copy not yet needed, or two
      // files beginning alike): leave it until that one is truncated or let go.
      ::close(fd);
      return;
    }
    if (auto it = reached_.find(identity); it != reached_.end()) {
      start = it->second;  // a rotated or copied content: continue where reading got to
    } else if (auto off = checkpoints_ ? checkpoints_->offset(identity) : std::nullopt) {
      start = *off;
    } else if (first_start && !cfg_.from_start) {
      start = end_of_last_line(fd, static_cast<std::uint64_t>(st.st_size));
    }
  } else if (first_start && !cfg_.from_start) {
    start = end_of_last_line(fd, static_cast<std::uint64_t>(st.st_size));
  }
  start = std::min<std::uint64_t>(start, static_cast<std::uint64_t>(st.st_size));
  auto f = std::make_unique<followed_file>(cfg_.batch_bytes, cfg_.max_line_bytes);
  f->path = path;
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  f->in.fd = fd;
  f->in.pos = start;
  f->framer.start_input(start);
  f->identity = identity;
  f->src = &add_source(path, identity);
  f->last_size = static_cast<std::uint64_t>(st.st_size);
  spdlog::debug("following {} from offset {}", path, start);
  files_.push_back(std::move(f));
}

void follow_reader::scan(bool first_start) {
  // Before anything new is compared with them: a file opened empty may have its first
  // line by now, and a copy of it must be recognised as such.
  for (auto& f : files_) refresh_identity(*f);
  std::set<std::string> seen;
  for (const auto& pattern : patterns_) {
    const auto paths = has_glob(pattern) ? expand(pattern) : std::vector<std::string>{pattern};
    bool any = false;
    for (const auto& path : paths) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      any = true;
      if (!seen.insert(path).second) continue;
      // Already open (same inode): a rename within the glob only changes its name.
      auto same = std::find_if(files_.begin(), files_.end(),
                               [&](const auto& f) { return f->dev == st.st_dev && f->ino == st.st_ino; });
      if (same != files_.end()) {
        (*same)->path = path;
        continue;
      }
      open_file(path, first_start);
    }
    if (!any && warned_.insert(pattern).second) {
      spdlog::warn("{}: {}; waiting for it to appear", pattern,
                   has_glob(pattern) ? "no file matches yet" : "no such file yet");
    } else if (any) {
      warned_.erase(pattern);
    }
  }
  // An open file whose path is gone or names another inode now was rotated or deleted.
  for (auto& f : files_) {
    struct stat st {};
    const bool moved = ::stat(f->path.c_str(), &st) != 0 || st.st_dev != f->dev || st.st_ino != f->ino;
    if (moved && !f->rotated) {
      f->rotated = true;
      f->quiet_since_ns = 0;
      spdlog::debug("{} was rotated or deleted: draining it", f->path);
    }
  }
}

bool follow_reader::check_truncated(followed_file& f, const handoff& h) {
  struct stat st {};
  if (::fstat(f.in.fd, &st) != 0) return false;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size == f.last_size) return false;
  f.last_size = size;
  bool restart = size < f.in.pos;
  if (!restart && !f.identity.empty()) {
    // Re-checked on every change, not only on a shrink: a copytruncated file can regrow
    // past the old offset before sluice looks.
    const auto id = file_identity(f.in.fd);
    restart = !id || *id != f.identity;
  }
  if (!restart) return false;
  spdlog::debug("{} was truncated: reading it again from 0", f.path);
  if (f.framer.holding()) {
    if (!read_batch(h, f.framer, f.in, *f.src, true)) return true;
  }
  if (!f.identity.empty()) reached_[f.identity] = f.framer.offset();
  f.identity.clear();
  f.in.pos = 0;
  f.framer.start_input(0);
  f.src = &add_source(f.path, "");
  rescan_ = true;  // a copy of the old content may be waiting for its turn
  return true;
}

void follow_reader::refresh_identity(followed_file& f) {
  if (!f.identity.empty() || f.duplicate) return;
  // The identity comes with the first complete line; batches carry it from then on.
  auto id = file_identity(f.in.fd);
  if (!id) return;
  // Nothing of this file was handed on yet (no complete line before now), so it can
  // still turn out to be a copy: of a content being read elsewhere (let it go; a later
  // scan looks again), or of one read up to some offset already (continue there).
  if (identity_active(*id)) {
    f.duplicate = true;
    return;
  }
  if (auto it = reached_.find(*id); it != reached_.end() && f.in.pos < it->second && f.framer.offset() == 0) {
    f.in.pos = it->second;
    f.framer.start_input(it->second);
  }
  f.identity = *id;
  f.src = &add_source(f.path, f.identity);
}

bool follow_reader::read_some(followed_file& f, const handoff& h, bool& read_any) {
  refresh_identity(f);
  if (f.duplicate) return true;
  for (int i = 0; i < batches_per_turn; ++i) {
    struct stat st {};
    if (::fstat(f.in.fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) <= f.in.pos) return true;
    const auto status = read_batch(h, f.framer, f.in, *f.src);
    if (!status) return false;
    read_any = true;
    f.quiet_since_ns = 0;
    if (*status == line_framer::status::failed) {
      spdlog::error("reading {}: {}", f.path, std::strerror(f.framer.last_errno()));
      input_failed();
      f.rotated = true;
      return true;
    }
    if (*status == line_framer::status::idle) return true;
  }
  return true;
}

void follow_reader::release(followed_file& f, const handoff& h) {
  // Rotated away or deleted, drained and quiet: its unfinished line goes on as it is.
  if (f.framer.holding()) read_batch(h, f.framer, f.in, *f.src, true);
  if (!f.identity.empty()) reached_[f.identity] = f.framer.offset();
  spdlog::debug("let go of {} at offset {}", f.path, f.framer.offset());
}

void follow_reader::wait_for_change(int timeout_ms) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  const nfds_t n = inotify_fd_ >= 0 ? 2 : 1;
  if (::poll(fds, n, timeout_ms) <= 0 || n < 2 || fds[1].revents == 0) return;
  alignas(inotify_event) char buf[16 * 1024];
  for (;;) {
    const ssize_t got = ::read(inotify_fd_, buf, sizeof buf);
    if (got <= 0) break;
    for (ssize_t at = 0; at < got;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
      if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_Q_OVERFLOW)) rescan_ = true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
}

std::uint64_t follow_reader::run(const handoff& h) {
  watch_directories();
  const bool first_start = checkpoints_ == nullptr || !checkpoints_->existed();
  scan(first_start);
  rescan_ = false;
  auto last_scan = now_ns();
  const int idle_wait_ms = cfg_.poll_ms > 0 ? static_cast<int>(cfg_.poll_ms) : 250;
  while (!stopping()) {
    bool read_any = false;
    for (std::size_t i = 0; i < files_.size() && !stopping(); ++i) {
      auto& f = *files_[i];
      if (check_truncated(f, h)) read_any = true;
      if (!read_some(f, h, read_any)) break;
    }
    // Let go of rotated files once drained and quiet, and of copies found too early.
    const auto now = now_ns();
    for (auto it = files_.begin(); it != files_.end() && !stopping();) {
      auto& f = **it;
      if (f.duplicate) {
        it = files_.erase(it);
        continue;
      }
      struct stat st {};
      const bool drained = ::fstat(f.in.fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) <= f.in.pos;
      if (f.rotated && drained) {
        if (f.quiet_since_ns == 0) f.quiet_since_ns = now;
        if (now - f.quiet_since_ns >= rotated_quiet_ns) {
          release(f, h);
          it = files_.erase(it);
          rescan_ = true;  // a copy waiting for this content may be read now
          continue;
        }
      }
      ++it;
    }
    if (stopping()) break;
    if (rescan_ || inotify_fd_ < 0 || now - last_scan >= std::int64_t{rescan_ms} * 1'000'000) {
      scan(false);
      rescan_ = false;
      last_scan = now;
      continue;
    }
    if (!read_any) wait_for_change(idle_wait_ms);
  }
  return seq_;
}

}  // namespace sluice
