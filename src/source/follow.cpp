#include "sluice/source/follow.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <string.h>  // memrchr
#include <string_view>
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

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// A content's identity is the file's fingerprint, plus "#N" for the Nth time the file was
// truncated and rewritten with the same first line.
std::string_view fingerprint_of(std::string_view identity) { return identity.substr(0, identity.find('#')); }

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
  // The fingerprint the file must still show for what was read to be this content's
  // (empty: not checked). Between sluice's last look at a file and a read (a wait for
  // a read-ahead slot, a descheduled thread) the file may be copytruncated and regrown
  // past `pos`: the bytes read would be the new content's, taken for the old one's
  // continuation. Checked after the read, such bytes are dropped as if nothing was
  // there; the next look at the file sees the new content (read from 0) and the copy
  // supplies the rest of the old one.
  std::string expect;
  long read(char* dst, std::size_t n) override {
    for (;;) {
      const ssize_t got = ::pread(fd, dst, n, static_cast<off_t>(pos));
      if (got < 0 && errno == EINTR) continue;
      if (got > 0 && !expect.empty() && file_identity(fd) != expect) return 0;
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
  // Takes over `fd`, open on `path`, as fstat described it.
  static std::unique_ptr<followed_file> opened(const std::string& path, int fd, const struct stat& st) {
    auto f = std::make_unique<followed_file>();
    f->path = path;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->fd = fd;
    f->last_size = static_cast<std::uint64_t>(st.st_size);
    f->last_mtime_ns = mtime_ns(st);
    f->last_active_ns = now_ns();
    return f;
  }
  ~followed_file() {
    if (fd >= 0) ::close(fd);
  }
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
  int fd = -1;
  std::uint64_t last_size = 0;
  std::int64_t last_mtime_ns = 0;
  std::string identity;        // the content it shows; empty: no complete first line yet
  unsigned restarts = 0;       // truncations that kept the same first line
  bool rotated = false;        // the path names another file now, or nothing
  std::int64_t quiet_since_ns = 0;
  std::int64_t last_active_ns = 0;  // opened or read from; parked (fd -1) when idle long
};

struct follow_reader::content {
  content(std::size_t batch_bytes, std::size_t max_line_bytes) : framer(batch_bytes, max_line_bytes) {
    framer.set_follow(true);
  }
  std::string identity;
  line_framer framer;
  file_stream in;                     // fd of the file read from now; pos: read position
  const input_source* src = nullptr;
  std::int64_t orphan_since_ns = 0;   // no file shows it since then (0: some file does)
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

follow_reader::content& follow_reader::content_for(const std::string& identity, const followed_file& f,
                                                   bool first_start) {
  auto& slot = contents_[identity];
  if (slot) return *slot;
  slot = std::make_unique<content>(cfg_.batch_bytes, cfg_.max_line_bytes);
  std::uint64_t start = 0;
  if (auto it = finished_.find(identity); it != finished_.end()) {
    start = it->second;  // ended earlier in this run; a copy of it turned up
  } else if (auto off = checkpoints_ ? checkpoints_->offset(identity) : std::nullopt) {
    start = *off;
  } else if (first_start && !cfg_.from_start) {
    start = end_of_last_line(f.fd, f.last_size);
  }
  slot->identity = identity;
  slot->in.expect = fingerprint_of(identity);
  slot->in.pos = start;
  slot->framer.start_input(start);
  slot->src = &add_source(f.path, identity);
  spdlog::debug("reading {} from offset {}", f.path, start);
  return *slot;
}

void follow_reader::open_file(const std::string& path, bool first_start) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // gone again, or unreadable: the next scan tries again
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return;
  }
  auto f = followed_file::opened(path, fd, st);
  if (auto id = file_identity(fd)) {
    f->identity = *id;
    content_for(*id, *f, first_start);
  }
  files_.push_back(std::move(f));
}

void follow_reader::scan(bool first_start) {
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
        (*same)->rotated = false;
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

void follow_reader::check_file(followed_file& f, bool first_start) {
  struct stat st {};
  if (f.fd < 0) {
    // Parked (--max-open-files): looked at by path, reopened when it changed.
    if (::stat(f.path.c_str(), &st) != 0 || st.st_dev != f.dev || st.st_ino != f.ino) {
      f.rotated = true;  // drained before it was parked: nothing is left to read of it
      return;
    }
    if (static_cast<std::uint64_t>(st.st_size) == f.last_size && mtime_ns(st) == f.last_mtime_ns) return;
    const int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat again {};
    if (fd < 0 || ::fstat(fd, &again) != 0 || again.st_dev != f.dev || again.st_ino != f.ino) {
      if (fd >= 0) ::close(fd);
      return;  // replaced meanwhile: the next scan sees it
    }
    f.fd = fd;
    f.last_active_ns = now_ns();
  }
  if (::fstat(f.fd, &st) != 0) return;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  // The modification time too: a file copytruncated and rewritten to exactly its old
  // size has not changed size.
  if (size == f.last_size && mtime_ns(st) == f.last_mtime_ns && !f.identity.empty()) return;
  const bool shrank = size < f.last_size;
  f.last_size = size;
  f.last_mtime_ns = mtime_ns(st);
  // Re-checked on every change, not only on a shrink: a copytruncated file can regrow
  // past its old size before sluice looks.
  const auto id = size == 0 ? std::nullopt : file_identity(f.fd);
  std::string now = id ? *id : std::string();
  if (!now.empty() && now == fingerprint_of(f.identity)) {
    if (!shrank) return;  // grown: the same content
    // Truncated and rewritten with the very same first line: a new content all the same.
    now += '#';
    now += std::to_string(++f.restarts);
  }
  if (now == f.identity) return;
  if (!f.identity.empty()) spdlog::debug("{} was truncated or rewritten: reading its new content from 0", f.path);
  f.identity = now;
  rescan_ = true;  // a copy of the old content may be waiting to be found
  if (!now.empty()) {
    finished_.erase(now);
    content_for(now, f, first_start);
  }
}

bool follow_reader::read_content(content& c, const handoff& h, bool& read_any) {
  // Read from the biggest file that shows this content.
  followed_file* from = nullptr;
  for (auto& f : files_)
    if (f->fd >= 0 && f->identity == c.identity && (from == nullptr || f->last_size > from->last_size))
      from = f.get();
  if (from == nullptr) return true;
  c.orphan_since_ns = 0;
  if (from->last_size <= c.in.pos) return true;
  c.in.fd = from->fd;
  for (int i = 0; i < batches_per_turn; ++i) {
    const auto status = read_batch(h, c.framer, c.in, *c.src);
    if (!status) return false;
    read_any = true;
    from->quiet_since_ns = 0;
    from->last_active_ns = now_ns();
    if (*status == line_framer::status::failed) {
      spdlog::error("reading {}: {}", from->path, std::strerror(c.framer.last_errno()));
      input_failed();
      from->rotated = true;
      return true;
    }
    if (*status == line_framer::status::idle) return true;
  }
  return true;
}

bool follow_reader::retire(const handoff& h) {
  const auto now = now_ns();
  // This loop erases from files_: no scan may add to it meanwhile.
  scan_while_waiting_ = false;
  struct resume {
    bool& flag;
    ~resume() { flag = true; }
  } resume_scans{scan_while_waiting_};
  // Let go of rotated files once drained and quiet.
  for (auto it = files_.begin(); it != files_.end();) {
    auto& f = **it;
    bool drained = true;
    if (!f.identity.empty()) {
      if (auto c = contents_.find(f.identity); c != contents_.end()) drained = f.last_size <= c->second->in.pos;
    }
    if (!f.rotated || !drained) {
      ++it;
      continue;
    }
    if (f.quiet_since_ns == 0) f.quiet_since_ns = now;
    if (now - f.quiet_since_ns < rotated_quiet_ns) {
      ++it;
      continue;
    }
    if (f.identity.empty() && f.last_size > 0) {
      // Never got a complete first line: what it holds goes on as one last line.
      line_framer last(cfg_.batch_bytes, cfg_.max_line_bytes);
      file_stream in;
      in.fd = f.fd;
      const input_source& src = add_source(f.path, "");
      for (auto st = line_framer::status::more; st == line_framer::status::more;) {
        const auto r = read_batch(h, last, in, src);
        if (!r) return false;
        st = *r;
      }
    }
    spdlog::debug("let go of {}", f.path);
    it = files_.erase(it);
    rescan_ = true;
  }
  scan_while_waiting_ = true;
  // End the contents no file shows any more, after a grace period in which a copy of
  // them may still be found: their held unfinished line goes on as it is.
  for (auto it = contents_.begin(); it != contents_.end();) {
    auto& c = *it->second;
    const bool shown = std::any_of(files_.begin(), files_.end(),
                                   [&](const auto& f) { return f->identity == c.identity; });
    if (shown) {
      c.orphan_since_ns = 0;
      ++it;
      continue;
    }
    if (c.orphan_since_ns == 0) c.orphan_since_ns = now;
    if (now - c.orphan_since_ns < rotated_quiet_ns) {
      ++it;
      continue;
    }
    if (c.framer.holding() && !read_batch(h, c.framer, c.in, *c.src, true)) return false;
    finished_[c.identity] = c.framer.offset();
    spdlog::debug("content of {} ended at offset {}", c.src->name, c.framer.offset());
    it = contents_.erase(it);
  }
  return true;
}

void follow_reader::park_idle() {
  if (cfg_.max_open_files == 0) return;
  std::vector<followed_file*> open;
  for (auto& f : files_)
    if (f->fd >= 0) open.push_back(f.get());
  if (open.size() <= cfg_.max_open_files) return;
  // Only drained files whose name still points at them can be let go of and found again
  // by path; a file rotated or deleted before it was drained stays open whatever the limit.
  const auto now = now_ns();
  std::vector<followed_file*> idle;
  std::size_t undrained = 0;  // rotated away or with data left: must stay open
  for (auto* f : open) {
    const auto c = f->identity.empty() ? contents_.end() : contents_.find(f->identity);
    if (f->rotated || c == contents_.end() || f->last_size > c->second->in.pos) {
      ++undrained;
      continue;
    }
    if (now - f->last_active_ns >= 1'000'000'000) idle.push_back(f);
  }
  std::sort(idle.begin(), idle.end(),
            [](const auto* a, const auto* b) { return a->last_active_ns < b->last_active_ns; });
  std::size_t still_open = open.size();
  for (auto* f : idle) {
    if (still_open <= cfg_.max_open_files) break;
    ::close(f->fd);
    f->fd = -1;
    --still_open;
  }
  if (undrained > cfg_.max_open_files && warned_.insert("max-open-files").second)
    spdlog::warn("{} files not drained yet (or rotated away) stay open, over --max-open-files {}", undrained,
                 cfg_.max_open_files);
}

void follow_reader::find_rotated_siblings() {
  // A plain path rotated while sluice was down: its content now lives under a sibling
  // with a rotation suffix (app.log.1, app.log-20261125). Those the checkpoint knows and
  // that hold more than was read are drained, then let go.
  for (const auto& pattern : patterns_) {
    if (has_glob(pattern)) continue;
    for (const char* suffix : {".*", "-*"}) {
      for (const auto& path : expand(pattern + suffix)) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        struct stat st {};
        const auto id = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? file_identity(fd) : std::nullopt;
        const auto off = id ? checkpoints_->offset(*id) : std::nullopt;
        const bool open_already = std::any_of(files_.begin(), files_.end(), [&](const auto& f) {
          return f->dev == st.st_dev && f->ino == st.st_ino;
        });
        if (!off || open_already || *off >= static_cast<std::uint64_t>(st.st_size)) {
          ::close(fd);
          continue;
        }
        auto f = followed_file::opened(path, fd, st);
        f->identity = *id;
        f->rotated = true;  // drained, then let go
        content_for(*id, *f, false);
        spdlog::info("{} was rotated to {} while sluice was down: reading the rest of it", pattern, path);
        files_.push_back(std::move(f));
      }
    }
  }
}

batch* follow_reader::acquire(const handoff& h) {
  if (stopped_reading_) return h.acquire_at_stop();
  auto last = now_ns();
  for (;;) {
    if (batch* b = h.acquire_within(25)) return b;
    if (stopping()) return nullptr;
    if (!scan_while_waiting_) continue;
    // A file created (and maybe soon deleted) while we wait is opened at once: held
    // open, it can be read later whatever happens to its name.
    wait_for_change(0);
    const auto now = now_ns();
    if (rescan_ || now - last >= 200'000'000) {
      scan(false);
      rescan_ = false;
      last = now;
    }
  }
}

void follow_reader::wait_for_change(int timeout_ms) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  const nfds_t n = inotify_fd_ >= 0 ? 2 : 1;
  if (n < 2 && timeout_ms == 0) return;
  if (::poll(fds, n, timeout_ms) <= 0 || n < 2 || fds[1].revents == 0) return;
  alignas(inotify_event) char buf[16 * 1024];
  for (;;) {
    const ssize_t got = ::read(inotify_fd_, buf, sizeof buf);
    if (got <= 0) break;
    for (ssize_t at = 0; at < got;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
      if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_Q_OVERFLOW)) rescan_ = true;
      if (ev->mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB)) poke_parked_ = true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
}

std::uint64_t follow_reader::run(const handoff& h) {
  watch_directories();
  const bool first_start = checkpoints_ == nullptr || !checkpoints_->existed();
  scan(first_start);
  if (!first_start) find_rotated_siblings();
  rescan_ = false;
  auto last_scan = now_ns();
  const int idle_wait_ms = cfg_.poll_ms > 0 ? static_cast<int>(cfg_.poll_ms) : 250;
  while (!stopping()) {
    bool read_any = false;
    // Parked files are looked at when their directory says something changed (or each
    // second without inotify), open ones on every pass.
    const bool look_at_parked = poke_parked_ || inotify_fd_ < 0 || now_ns() - last_scan >= 1'000'000'000;
    poke_parked_ = false;
    for (auto& f : files_)
      if (f->fd >= 0 || look_at_parked) check_file(*f, false);
    for (auto it = contents_.begin(); it != contents_.end() && !stopping(); ++it)
      if (!read_content(*it->second, h, read_any)) break;
    if (stopping() || !retire(h)) break;
    park_idle();
    // Without inotify nothing tells of a new file: look at every poll interval.
    const auto now = now_ns();
    const std::int64_t scan_every_ms = inotify_fd_ < 0 ? std::min(idle_wait_ms, rescan_ms) : rescan_ms;
    if (rescan_ || now - last_scan >= scan_every_ms * 1'000'000) {
      scan(false);
      rescan_ = false;
      last_scan = now;
      continue;
    }
    // Busy or not, directory events are looked at on every pass: a new file is opened
    // promptly even while others are being read.
    wait_for_change(read_any ? 0 : idle_wait_ms);
  }
  // Shutdown: without a checkpoint, a held unfinished line goes on as it is (nothing read
  // is lost); with one it stays unread, to be read whole at the next start.
  if (checkpoints_ == nullptr) {
    stopped_reading_ = true;
    for (auto& [id, c] : contents_)
      if (c->framer.holding() && !read_batch(h, c->framer, c->in, *c->src, true)) break;
  }
  return seq_;
}

}  // namespace sluice
