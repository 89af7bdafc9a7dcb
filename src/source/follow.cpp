#include "sluice/source/follow.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <string.h>  // memrchr
#include <dirent.h>
#include <string_view>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/errors.hpp"
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
// An unfinished last line up to this long is held in memory (a writer caught in the
// middle of a line, the usual case; kept even if the file is truncated before its
// newline comes); a longer one is held as an offset and read again from the file, so
// what sluice holds per followed file stays small however many files it follows.
constexpr std::size_t held_in_memory_max = 4096;

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

// glob()'s error callback has no user pointer: the reader thread notes here that a
// directory could not be read for lack of a descriptor (never "no file matches").
thread_local int glob_fd_errno = 0;
int note_glob_error(const char*, int err) {
  if (err == EMFILE || err == ENFILE) glob_fd_errno = err;
  return 0;
}

bool out_of_fds(int err) { return err == EMFILE || err == ENFILE; }

// Descriptors open now (stdio, outputs, eventfds): what sluice needs besides followed files.
std::size_t fds_in_use() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n > 0 ? n - 1 : 0;  // less the one opendir used
  }
  return 16;
}
// Descriptors kept free beyond those open at start-up: inotify, checkpoint writes,
// /metrics connections, glob's opendir.
constexpr std::size_t fd_headroom = 32;

std::vector<std::string> expand(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, note_glob_error, &g) == 0) {
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
  // Reads stop here (a held line read back into memory, and nothing after it).
  std::uint64_t end = UINT64_MAX;
  long read(char* dst, std::size_t n) override {
    if (pos >= end) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, end - pos));
    for (;;) {
      const ssize_t got = ::pread(fd, dst, n, static_cast<off_t>(pos));
      if (got < 0 && errno == EINTR) continue;
      if (got > 0 && !expect.empty() && file_identity(fd) != expect) return 0;
      if (got > 0) pos += static_cast<std::uint64_t>(got);
      return static_cast<long>(got);
    }
  }
};

// Whether fd holds a newline in [from, to).
bool has_newline(int fd, std::uint64_t from, std::uint64_t to) {
  char buf[64 * 1024];
  while (from < to) {
    const ssize_t n = ::pread(fd, buf, std::min<std::uint64_t>(sizeof buf, to - from), static_cast<off_t>(from));
    if (n <= 0) return true;  // read it properly: the framer reports what went wrong
    if (std::memchr(buf, '\n', static_cast<std::size_t>(n)) != nullptr) return true;
    from += static_cast<std::uint64_t>(n);
  }
  return false;
}

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

struct follow_source::followed_file {
  // Takes over `fd`, open on `path`, as fstat described it; `open_count` counts the
  // followed files with a descriptor.
  static std::unique_ptr<followed_file> opened(const std::string& path, int fd, const struct stat& st,
                                               std::size_t& open_count) {
    auto f = std::make_unique<followed_file>();
    f->path = path;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->open_count = &open_count;
    f->adopt(fd);
    f->last_size = static_cast<std::uint64_t>(st.st_size);
    f->last_mtime_ns = mtime_ns(st);
    return f;
  }
  ~followed_file() { close_fd(); }
  void adopt(int new_fd) {
    fd = new_fd;
    ++*open_count;
    last_active_ns = opened_ns = now_ns();
    had_turn = false;
    waiting_since_ns = 0;
  }
  void close_fd() {
    if (fd < 0) return;
    ::close(fd);
    fd = -1;
    --*open_count;
  }
  std::size_t* open_count = nullptr;
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
  std::int64_t opened_ns = 0;
  bool had_turn = false;             // read from (or found drained) since it was opened
  std::int64_t waiting_since_ns = 0; // parked with data to read: waits for a descriptor
};

struct follow_source::content {
  content(std::size_t batch_bytes, std::size_t max_line_bytes) : framer(batch_bytes, max_line_bytes) {
    framer.set_follow(true);
  }
  std::string identity;
  line_framer framer;
  file_stream in;                     // fd of the file read from now; pos: read position
  // An unfinished last line is held as an offset, not in memory: in.pos is where it
  // starts (read again when its newline comes), seen_to how far sluice has looked.
  std::uint64_t seen_to = 0;
  std::uint64_t seen() const { return std::max(in.pos, seen_to); }
  bool held_on_disk() const { return seen_to > in.pos; }
  const input_source* src = nullptr;
  std::int64_t orphan_since_ns = 0;   // no file shows it since then (0: some file does)
};

follow_source::follow_source(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints)
    : source(cfg, stats, checkpoints), patterns_(cfg.inputs) {
  max_open_ = cfg.max_open_files;
  // --max-open-files must fit RLIMIT_NOFILE with what sluice needs besides: raise the
  // soft limit (up to the hard one) when it does not.
  const std::size_t reserve = fds_in_use() + fd_headroom;
  const std::size_t want = max_open_ + reserve;
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    const rlim_t was = rl.rlim_cur;
    struct rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min<rlim_t>(want, rl.rlim_max);
    if (raised.rlim_cur > was && ::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      rl = raised;
      spdlog::info("raised the open-file limit (ulimit -n) from {} to {} for --max-open-files {}", was,
                   rl.rlim_cur, max_open_);
    }
  }
  const std::size_t limit = rl.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20 : rl.rlim_cur;
  fd_limit_ = limit;
  const std::size_t fit = limit > reserve + 1 ? limit - reserve : 1;
  if (max_open_ > fit) {
    // Only the default is fitted quietly; a value the user chose that cannot be honoured
    // is their mistake to hear about.
    if (cfg.max_open_files != config{}.max_open_files)
      throw usage_error(fmt::format("--max-open-files {} does not fit the open-file limit {} (ulimit -n; sluice "
                                    "keeps {} descriptors for itself): use at most {} or raise the limit",
                                    max_open_, limit, reserve, fit));
    spdlog::warn("the open-file limit {} (ulimit -n) leaves room for {} followed files open at once, under the "
                 "default --max-open-files {}: more files than that are read in turns",
                 limit, fit, max_open_);
    max_open_ = fit;
  }
  fd_cap_ = fit;
  if (cfg.poll_ms == 0) {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) spdlog::warn("inotify unavailable ({}): polling instead", std::strerror(errno));
  }
}

follow_source::~follow_source() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void follow_source::watch_directories() {
  if (inotify_fd_ < 0) return;
  for (const auto& p : patterns_) {
    const auto dir = dir_of(p);
    std::vector<std::string> dirs;
    if (!has_glob(dir)) {
      dirs.push_back(dir);
    } else {
      // A wildcard in a directory name ('app*/x.log'): watch every directory that matches
      // now, and each level above, from the last one without a wildcard, where a new
      // matching directory would appear (its creation triggers a rescan, which watches it).
      const auto first = dir.find_first_of("*?[");
      const auto fixed = dir.rfind('/', first);
      dirs.push_back(fixed == std::string::npos ? "." : fixed == 0 ? "/" : dir.substr(0, fixed));
      for (auto slash = dir.find('/', first); slash != std::string::npos; slash = dir.find('/', slash + 1))
        for (auto& d : expand(dir.substr(0, slash))) dirs.push_back(std::move(d));
      for (auto& d : expand(dir)) dirs.push_back(std::move(d));
    }
    for (const auto& d : dirs) {
      if (watched_.count(d)) continue;
      struct stat st {};
      if (has_glob(dir) && (::stat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) continue;
      // Watching a directory reports writes to, creation, renames and deletion of the
      // files in it: enough to wake for new data and for rotations.
      if (::inotify_add_watch(inotify_fd_, d.c_str(),
                              IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE |
                                  IN_ATTRIB) >= 0) {
        watched_.insert(d);
      } else if (warned_.insert("watch:" + d).second) {
        spdlog::warn("cannot watch {} ({}); noticing its changes by polling", d, std::strerror(errno));
      }
    }
  }
}

void follow_source::note_own_outputs() {
  // Looked up again at each scan: an output may be created, or rotated, after the start.
  // Every inode an output ever had is remembered (a rotated output keeps its inode).
  struct stat o {};
  for (const std::string* p : {&cfg_.output, &cfg_.dead_letter, &cfg_.stats_file}) {
    if (p->empty()) continue;
    if ((*p == "-" ? ::fstat(STDOUT_FILENO, &o) == 0 : ::stat(p->c_str(), &o) == 0) && S_ISREG(o.st_mode))
      own_files_.insert({o.st_dev, o.st_ino});
  }
}

bool follow_source::own_output(const struct stat& st) const {
  return own_files_.count({st.st_dev, st.st_ino}) > 0;
}

static const char* file_kind(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

follow_source::content& follow_source::content_for(const std::string& identity, const followed_file& f,
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
  slot->seen_to = start;
  slot->framer.start_input(start);
  slot->src = &add_source(f.path, identity);
  spdlog::debug("reading {} from offset {}", f.path, start);
  return *slot;
}

int follow_source::open_path(const std::string& path, int& err) {
  if (open_files_ >= fd_cap_) {
    err = -1;
    return -1;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  err = fd < 0 ? errno : 0;
  if (fd < 0 && out_of_fds(err)) {
    // The limit was hit anyway (descriptors sluice uses elsewhere, or the system's
    // table): at most what is open now, one kept free for glob's opendir.
    fd_cap_ = std::max<std::size_t>(1, open_files_ > 1 ? open_files_ - 1 : open_files_);
  }
  return fd;
}

void follow_source::defer(const std::string& path, int err, bool first_start) {
  if (pending_.try_emplace(path, pending_open{now_ns(), first_start}).second) note_wait(path, err);
}

void follow_source::note_wait(const std::string& path, int err) {
  bump(stats_.open_deferred);
  if (!warned_.insert("defer").second) return;
  if (err == -1)
    spdlog::warn("{}: not opened yet: {} followed files are open, all that the open-file limit {} (ulimit -n) "
                 "leaves; files are read in turns (reader.open_deferred counts them)",
                 path, open_files_, fd_limit_);
  else
    spdlog::warn("{}: cannot open it yet ({}, with {} followed files open and the open-file limit {}): files are "
                 "read in turns (reader.open_deferred counts them)",
                 path, std::strerror(err), open_files_, fd_limit_);
}

void follow_source::open_file(const std::string& path, bool first_start) {
  int err = 0;
  const int fd = open_path(path, err);
  if (fd < 0) {
    if (err == -1 || out_of_fds(err)) {
      defer(path, err, first_start);
    } else if (err != ENOENT && warned_.insert("open:" + path).second) {
      spdlog::warn("cannot open {} ({}): trying again at every rescan", path, std::strerror(err));
    }
    return;  // gone again, or unreadable: the next scan tries again
  }
  // The pending set keeps how the file was first found (present at the first start).
  if (auto p = pending_.find(path); p != pending_.end()) {
    first_start = p->second.first_start;
    pending_.erase(p);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return;
  }
  auto f = followed_file::opened(path, fd, st, open_files_);
  if (auto id = file_identity(fd)) {
    f->identity = *id;
    content_for(*id, *f, first_start);
  }
  files_.push_back(std::move(f));
}

void follow_source::scan(bool first_start) {
  std::set<std::string> seen;
  bool listed_all = true;
  watch_directories();  // directories matching a wildcard may have appeared
  note_own_outputs();
  for (const auto& pattern : patterns_) {
    glob_fd_errno = 0;
    const auto paths = has_glob(pattern) ? expand(pattern) : std::vector<std::string>{pattern};
    if (glob_fd_errno != 0) {
      // A directory could not be read: its files are not missing, they are unknown yet.
      listed_all = false;
      fd_cap_ = std::max<std::size_t>(1, open_files_ > 1 ? open_files_ - 1 : open_files_);
      if (warned_.insert("glob-fds").second)
        spdlog::warn("{}: cannot list the directory ({}); closing files to make room, and trying again", pattern,
                     std::strerror(glob_fd_errno));
      rescan_ = true;
      continue;
    }
    bool any = false;
    for (const auto& path : paths) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) continue;
      if (!S_ISREG(st.st_mode)) {
        // Named on its own, a directory, FIFO or device is the user's mistake: said once,
        // a failed input. Matched by a wildcard, it is just not one of the files.
        any = any || !has_glob(pattern);
        if (!has_glob(pattern) && unfollowable_.insert(path).second) {
          spdlog::error("{} is {}: -F follows regular files only", path, file_kind(st.st_mode));
          input_failed();
        }
        continue;
      }
      any = true;
      if (!seen.insert(path).second) continue;
      if (own_output(st)) {
        if (warned_.insert("own:" + path).second)
          spdlog::warn("{} is sluice's own output (-o, --dead-letter or --stats-file): not followed", path);
        continue;
      }
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
    // Once per pattern: a path deleted and recreated again and again is not news.
    if (!any && warned_.insert(pattern).second) {
      spdlog::warn("{}: {}; waiting for it to appear", pattern,
                   has_glob(pattern) ? "no file matches yet" : "no such file yet");
    }
  }
  // A file deleted before a descriptor was free for it was never read: say so, count it.
  for (auto it = pending_.begin(); listed_all && it != pending_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    spdlog::error("{} was removed before a file descriptor was free to read it: none of it was read", it->first);
    input_failed();
    it = pending_.erase(it);
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

void follow_source::check_file(followed_file& f, bool first_start) {
  struct stat st {};
  if (f.fd < 0) {
    // Parked: looked at by path, reopened when it changed or has data left (closed in
    // the middle for lack of descriptors).
    const auto c = f.identity.empty() ? contents_.end() : contents_.find(f.identity);
    const bool unread = c != contents_.end() && f.last_size > c->second->seen();
    const bool held = c != contents_.end() && c->second->held_on_disk();
    if (::stat(f.path.c_str(), &st) != 0 || st.st_dev != f.dev || st.st_ino != f.ino) {
      if (!unread && !held) {
        f.rotated = true;  // drained before it was parked: nothing is left to read of it
        return;
      }
      if (!find_moved(f) || ::stat(f.path.c_str(), &st) != 0) {
        spdlog::error("{} was rotated away or deleted while closed: its last {} bytes were not read", f.path,
                      f.last_size - c->second->in.pos);
        input_failed();
        c->second->seen_to = c->second->in.pos;  // its held line is gone with it (said here)
        f.last_size = c->second->in.pos;          // nothing more can be had of it
        f.waiting_since_ns = 0;
        f.rotated = true;
        return;
      }
    }
    if (!unread && static_cast<std::uint64_t>(st.st_size) == f.last_size && mtime_ns(st) == f.last_mtime_ns) return;
    int err = 0;
    const int fd = open_path(f.path, err);
    struct stat again {};
    if (fd < 0 || ::fstat(fd, &again) != 0 || again.st_dev != f.dev || again.st_ino != f.ino) {
      if (fd >= 0) ::close(fd);
      if (fd < 0 && (err == -1 || out_of_fds(err))) {
        // Waits its turn for a descriptor (rotate_open_set).
        if (f.waiting_since_ns == 0) {
          f.waiting_since_ns = now_ns();
          note_wait(f.path, err);
        }
      }
      return;  // or replaced meanwhile: the next scan sees it
    }
    f.adopt(fd);
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

bool follow_source::read_content(content& c, emitter& h, bool& read_any) {
  // Read from the biggest file that shows this content.
  followed_file* from = nullptr;
  for (auto& f : files_)
    if (f->fd >= 0 && f->identity == c.identity && (from == nullptr || f->last_size > from->last_size))
      from = f.get();
  if (from == nullptr) return true;
  c.orphan_since_ns = 0;
  from->had_turn = true;  // read now, or nothing to read: it may give its descriptor up
  if (from->last_size <= c.seen()) return true;
  c.in.fd = from->fd;
  // A held line grown without its newline yet (and still within --max-line-bytes) is
  // only looked through, not read again.
  if (c.held_on_disk() && from->last_size - c.in.pos <= cfg_.max_line_bytes &&
      !has_newline(from->fd, c.seen_to, from->last_size)) {
    c.seen_to = from->last_size;
    from->quiet_since_ns = 0;
    from->last_active_ns = now_ns();
    return true;
  }
  for (int i = 0; i < batches_per_turn; ++i) {
    const auto status = read_batch(h, c.framer, c.in, *c.src);
    if (!status) return false;
    read_any = true;
    from->quiet_since_ns = 0;
    from->last_active_ns = now_ns();
    c.seen_to = c.in.pos;
    if (*status == line_framer::status::idle && c.framer.held_bytes() > held_in_memory_max) {
      // The unfinished last line stays in the file, not in memory: read again from its
      // start when its newline comes.
      c.in.pos = c.framer.offset();
      c.framer.release_held();
      return true;
    }
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

bool follow_source::retire(emitter& h) {
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
      if (auto c = contents_.find(f.identity); c != contents_.end()) drained = f.last_size <= c->second->seen();
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
    // The content's held line is in this file only: into memory with it before the file
    // goes (the content ends soon, or goes on from a copy).
    if (!f.identity.empty() && f.fd >= 0) {
      const auto c = contents_.find(f.identity);
      const bool elsewhere = std::any_of(files_.begin(), files_.end(), [&](const auto& g) {
        return g.get() != &f && g->fd >= 0 && g->identity == f.identity;
      });
      if (c != contents_.end() && !elsewhere && !reload_held(*c->second, f.fd, h)) return false;
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
    if (c.held_on_disk())
      spdlog::warn("{}: its unfinished last line ({} bytes) was truncated away before it could be read back",
                   c.src->name, c.seen_to - c.in.pos);
    if (c.framer.holding() && !read_batch(h, c.framer, c.in, *c.src, true)) return false;
    finished_[c.identity] = c.framer.offset();
    spdlog::debug("content of {} ended at offset {}", c.src->name, c.framer.offset());
    it = contents_.erase(it);
  }
  return true;
}

void follow_source::park_idle() {
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
    if (f->rotated || c == contents_.end() || f->last_size > c->second->seen()) {
      ++undrained;
      continue;
    }
    if (now - f->last_active_ns >= 1'000'000'000) idle.push_back(f);
  }
  std::sort(idle.begin(), idle.end(),
            [](const auto* a, const auto* b) { return a->last_active_ns < b->last_active_ns; });
  std::size_t still_open = open.size();
  for (auto* f : idle) {
    if (still_open <= max_open_) break;
    park(*f);
    --still_open;
  }
  if (undrained > max_open_ && warned_.insert("max-open-files").second)
    spdlog::warn("{} files not drained yet (or rotated away) stay open, over --max-open-files {}", undrained,
                 max_open_);
}

void follow_source::park(followed_file& f) {
  f.close_fd();
  const auto c = f.identity.empty() ? contents_.end() : contents_.find(f.identity);
  // Closed with data left: it waits for its next turn, behind those waiting already.
  f.waiting_since_ns = c != contents_.end() && f.last_size > c->second->seen() ? now_ns() : 0;
}

void follow_source::rotate_open_set() {
  struct waiter {
    std::int64_t since_ns;
    followed_file* file;  // parked with data left; null: a path never opened yet
    std::string path;
  };
  std::vector<waiter> waiting;
  for (auto& f : files_)
    if (f->fd < 0 && f->waiting_since_ns != 0) waiting.push_back({f->waiting_since_ns, f.get(), {}});
  for (const auto& [path, p] : pending_) waiting.push_back({p.since_ns, nullptr, path});
  if (waiting.empty() && open_files_ <= fd_cap_) return;
  std::stable_sort(waiting.begin(), waiting.end(),
                   [](const waiter& a, const waiter& b) { return a.since_ns < b.since_ns; });
  // Who gives a descriptor up: drained files first (least recently active first), then
  // files that have had a turn at reading, opened longest ago first. Rotated-away files
  // cannot be found again by path and files with no complete first line yet have no
  // content to keep their position: they stay open.
  std::vector<followed_file*> drained, had_turn;
  for (auto& f : files_) {
    if (f->fd < 0 || f->rotated || f->identity.empty()) continue;
    const auto c = contents_.find(f->identity);
    if (c == contents_.end()) continue;
    if (f->last_size <= c->second->seen())
      drained.push_back(f.get());
    else if (f->had_turn)
      had_turn.push_back(f.get());
  }
  std::sort(drained.begin(), drained.end(),
            [](const auto* a, const auto* b) { return a->last_active_ns < b->last_active_ns; });
  std::sort(had_turn.begin(), had_turn.end(),
            [](const auto* a, const auto* b) { return a->opened_ns < b->opened_ns; });
  std::vector<followed_file*> give_up = std::move(drained);
  give_up.insert(give_up.end(), had_turn.begin(), had_turn.end());
  std::size_t next = 0;
  while (open_files_ > fd_cap_ && next < give_up.size()) park(*give_up[next++]);
  for (auto& w : waiting) {
    if (open_files_ >= fd_cap_) {
      if (next == give_up.size()) break;
      park(*give_up[next++]);
    }
    if (w.file != nullptr)
      check_file(*w.file, false);
    else
      open_file(w.path, false);
  }
}

bool follow_source::reload_held(content& c, int fd, emitter& h) {
  if (!c.held_on_disk()) return true;
  c.in.fd = fd;
  c.in.end = c.seen_to;  // the held line only: no newline in it
  const auto st = read_batch(h, c.framer, c.in, *c.src);
  c.in.end = UINT64_MAX;
  if (!st) return false;
  c.seen_to = c.in.pos;
  return true;
}

int follow_source::fd_showing(content& c) {
  for (auto& f : files_)
    if (f->fd >= 0 && f->identity == c.identity) return f->fd;
  for (auto& f : files_) {
    if (f->identity != c.identity) continue;
    const int fd = ::open(f->path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino) {
      f->adopt(fd);
      return fd;
    }
    if (fd >= 0) ::close(fd);
  }
  return -1;
}

bool follow_source::find_moved(followed_file& f) {
  for (const char* suffix : {".*", "-*"}) {
    for (const auto& path : expand(f.path + suffix)) {
      struct stat st {};
      if (::stat(path.c_str(), &st) == 0 && st.st_dev == f.dev && st.st_ino == f.ino) {
        spdlog::debug("{} was rotated to {} while closed: reading the rest of it there", f.path, path);
        f.path = path;
        f.rotated = true;  // drained there, then let go
        return true;
      }
    }
  }
  return false;
}

void follow_source::find_rotated_siblings() {
  // A plain path rotated while sluice was down: its content now lives under a sibling
  // with a rotation suffix (app.log.1, app.log-20261125). Those the checkpoint knows and
  // that hold more than was read are drained, then let go.
  for (const auto& pattern : patterns_) {
    if (has_glob(pattern)) continue;
    for (const char* suffix : {".*", "-*"}) {
      for (const auto& path : expand(pattern + suffix)) {
        int err = 0;
        const int fd = open_path(path, err);
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
        auto f = followed_file::opened(path, fd, st, open_files_);
        f->identity = *id;
        f->rotated = true;  // drained, then let go
        content_for(*id, *f, false);
        spdlog::info("{} was rotated to {} while sluice was down: reading the rest of it", pattern, path);
        files_.push_back(std::move(f));
      }
    }
  }
}

batch* follow_source::acquire(emitter& h) {
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

void follow_source::wait_for_change(int timeout_ms) {
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
      if (ev->mask & IN_IGNORED) {
        // A watched directory went away: watched again if it comes back.
        watched_.clear();
        rescan_ = true;
      }
      if (ev->mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB)) poke_parked_ = true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
}

void follow_source::run(emitter& h) {
  const bool first_start = checkpoints_ == nullptr || !checkpoints_->existed();
  scan(first_start);
  if (std::all_of(patterns_.begin(), patterns_.end(),
                  [&](const auto& p) { return !has_glob(p) && unfollowable_.count(p); })) {
    return;  // nothing here can ever be followed (each said and counted)
  }
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
    rotate_open_set();
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
  // A file that never got a descriptor was not read at all: a failed input.
  for (const auto& [path, p] : pending_) {
    spdlog::error("{} was never read: no file descriptor was free for it (open-file limit {})", path, fd_limit_);
    input_failed();
  }
  // Shutdown: without a checkpoint, a held unfinished line goes on as it is (nothing read
  // is lost); with one it stays unread, to be read whole at the next start.
  if (checkpoints_ == nullptr) {
    stopped_reading_ = true;
    for (auto& [id, c] : contents_) {
      if (c->held_on_disk()) {
        const int fd = fd_showing(*c);
        if (fd < 0 || !reload_held(*c, fd, h)) {
          if (fd < 0) spdlog::error("{}: cannot reopen it to hand on its unfinished last line", c->src->name);
          continue;
        }
      }
      if (c->framer.holding() && !read_batch(h, c->framer, c->in, *c->src, true)) break;
    }
  }
}

}  // namespace sluice
