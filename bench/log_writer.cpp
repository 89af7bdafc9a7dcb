// log_writer: a deterministic NDJSON log writer that rotates its file, for the follow-mode
// end-to-end tests of sluice (tests/e2e/follow_test.sh, rotate_test.sh, checkpoint_test.sh).
//
//   log_writer --path P --lines N [--rate R[/s]] [--rotate-every K]
//              [--strategy rename|copytruncate|delete|rename-slow] [--keep M]
//              [--src NAME] [--start S] [--gen G] [--pad BYTES] [--copy-gap L] [--loss-log PATH]
//
// Writes the lines seq = S .. S+N-1, each one write(2) to P opened with O_APPEND (an
// existing P is continued, never truncated at start):
//
//   {"seq":i,"src":"NAME","gen":g,"pad":"..."}
//
// gen numbers the files written (G, default 0, for the first, +1 at each rotation), so a
// test can check order per file. Rotation happens before line i when i - S is a positive
// multiple of K:
//   rename        shift P.(M-1) -> P.M ... P.1 -> P.2 (P.M is replaced), rename P -> P.1,
//                 then create a new P.
//   rename-slow   as rename, but 50 more lines go through the old descriptor into the
//                 renamed file before the new P is created (a writer slow to reopen).
//   copytruncate  shift as above, copy P to P.1, write L lines (--copy-gap, default 0) to P,
//                 then truncate P to 0 and keep writing through the same descriptor. The L
//                 lines are the rotator's loss (in neither file unless a follower read P
//                 before the truncate); their seqs go to --loss-log, one a line.
//   delete        unlink P, close it, create a new P.
// --rate paces the lines at R a second from the start (default: as fast as possible).
// --keep M defaults to 5. Exit 0 when done, 1 on an I/O error, 2 on a usage error.
// Standalone: the C++20 standard library and POSIX only.

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr, "log_writer: %s\n", msg.c_str());
  std::fprintf(stderr,
               "usage: log_writer --path P --lines N [--rate R[/s]] [--rotate-every K]\n"
               "         [--strategy rename|copytruncate|delete|rename-slow] [--keep M]\n"
               "         [--src NAME] [--start S] [--gen G] [--pad BYTES] [--copy-gap L] [--loss-log PATH]\n");
  std::exit(2);
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "log_writer: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

uint64_t parse_u64(std::string_view flag, std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    usage(std::string(flag) + ": not a non-negative integer: '" + std::string(s) + "'");
  }
  return v;
}

enum class strategy { rename, rename_slow, copytruncate, del };

struct options {
  std::string path;
  uint64_t lines = 0;
  bool have_lines = false;
  double rate = 0;  // lines per second; 0: unlimited
  uint64_t rotate_every = 0;
  strategy strat = strategy::rename;
  uint64_t keep = 5;
  std::string src = "w";
  uint64_t start = 0;
  uint64_t gen = 0;
  uint64_t pad = 48;
  uint64_t copy_gap = 0;
  std::string loss_log;
};

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) usage(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--path") {
      o.path = value();
    } else if (a == "--lines") {
      o.lines = parse_u64(a, value());
      o.have_lines = true;
    } else if (a == "--rate") {
      std::string_view v = value();
      if (v.ends_with("/s")) v.remove_suffix(2);
      o.rate = static_cast<double>(parse_u64("--rate", v));
      if (o.rate <= 0) usage("--rate must be positive");
    } else if (a == "--rotate-every") {
      o.rotate_every = parse_u64(a, value());
    } else if (a == "--strategy") {
      std::string_view v = value();
      if (v == "rename") o.strat = strategy::rename;
      else if (v == "rename-slow") o.strat = strategy::rename_slow;
      else if (v == "copytruncate") o.strat = strategy::copytruncate;
      else if (v == "delete") o.strat = strategy::del;
      else usage("--strategy: unknown '" + std::string(v) + "'");
    } else if (a == "--keep") {
      o.keep = parse_u64(a, value());
      if (o.keep == 0) usage("--keep must be at least 1");
    } else if (a == "--src") {
      o.src = value();
      if (o.src.find_first_of("\"\\") != std::string::npos) usage("--src: no quotes or backslashes");
    } else if (a == "--start") {
      o.start = parse_u64(a, value());
    } else if (a == "--gen") {
      o.gen = parse_u64(a, value());
    } else if (a == "--pad") {
      o.pad = parse_u64(a, value());
    } else if (a == "--copy-gap") {
      o.copy_gap = parse_u64(a, value());
    } else if (a == "--loss-log") {
      o.loss_log = value();
    } else if (a == "-h" || a == "--help") {
      usage("help");
    } else {
      usage("unknown argument '" + std::string(a) + "'");
    }
  }
  if (o.path.empty()) usage("--path is required");
  if (!o.have_lines) usage("--lines is required");
  return o;
}

void write_all(int fd, const char* p, size_t n, const std::string& what) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("write " + what);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

int open_append(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + path);
  return fd;
}

// P.(keep-1) -> P.keep, ..., P.1 -> P.2: make room for a new P.1.
void shift_rotated(const options& o) {
  for (uint64_t k = o.keep; k >= 2; --k) {
    std::string from = o.path + "." + std::to_string(k - 1);
    std::string to = o.path + "." + std::to_string(k);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) die("rename " + from);
  }
}

void copy_file(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) die("open " + from);
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) die("open " + to);
  static char buf[1 << 16];
  for (;;) {
    ssize_t r = ::read(in, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("read " + from);
    }
    if (r == 0) break;
    write_all(out, buf, static_cast<size_t>(r), to);
  }
  ::close(in);
  if (::close(out) != 0) die("close " + to);
}

struct pacer {
  double rate;
  timespec t0{};
  explicit pacer(double r) : rate(r) { clock_gettime(CLOCK_MONOTONIC, &t0); }
  // Wait until line number j (0-based, this run) is due.
  void wait_for(uint64_t j) const {
    if (rate <= 0) return;
    double due = static_cast<double>(j) / rate;
    auto secs = static_cast<time_t>(due);
    long nsec = static_cast<long>((due - static_cast<double>(secs)) * 1e9);
    timespec t{t0.tv_sec + secs, t0.tv_nsec + nsec};
    if (t.tv_nsec >= 1000000000L) {
      t.tv_sec += 1;
      t.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) == EINTR) {
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const options o = parse_args(argc, argv);

  std::string pad(o.pad, 'x');
  auto make_line = [&](uint64_t seq, uint64_t gen) {
    for (uint64_t k = 0; k < o.pad; ++k) pad[k] = static_cast<char>('a' + (seq + k) % 26);
    std::string s;
    s.reserve(64 + o.src.size() + o.pad);
    s += "{\"seq\":";
    s += std::to_string(seq);
    s += ",\"src\":\"";
    s += o.src;
    s += "\",\"gen\":";
    s += std::to_string(gen);
    s += ",\"pad\":\"";
    s += pad;
    s += "\"}\n";
    return s;
  };

  int loss_fd = -1;
  if (!o.loss_log.empty()) {
    loss_fd = ::open(o.loss_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (loss_fd < 0) die("open " + o.loss_log);
  }

  int fd = open_append(o.path);
  uint64_t gen = o.gen;
  uint64_t written = 0;  // lines written by this run, for pacing
  const pacer pace(o.rate);
  const uint64_t end = o.start + o.lines;

  auto emit = [&](int to_fd, uint64_t seq, uint64_t g) {
    pace.wait_for(written);
    std::string line = make_line(seq, g);
    write_all(to_fd, line.data(), line.size(), o.path);
    ++written;
  };

  uint64_t i = o.start;
  while (i < end) {
    if (o.rotate_every > 0 && i > o.start && (i - o.start) % o.rotate_every == 0) {
      const std::string first = o.path + ".1";
      switch (o.strat) {
        case strategy::rename:
        case strategy::rename_slow:
          shift_rotated(o);
          if (::rename(o.path.c_str(), first.c_str()) != 0) die("rename " + o.path);
          if (o.strat == strategy::rename_slow) {
            for (uint64_t k = 0; k < 50 && i < end; ++k, ++i) emit(fd, i, gen);
          }
          if (::close(fd) != 0) die("close " + o.path);
          fd = open_append(o.path);
          ++gen;
          break;
        case strategy::copytruncate:
          shift_rotated(o);
          copy_file(o.path, first);
          for (uint64_t k = 0; k < o.copy_gap && i < end; ++k, ++i) {
            emit(fd, i, gen);
            if (loss_fd >= 0) {
              std::string s = std::to_string(i) + "\n";
              write_all(loss_fd, s.data(), s.size(), o.loss_log);
            }
          }
          if (::ftruncate(fd, 0) != 0) die("truncate " + o.path);
          ++gen;
          break;
        case strategy::del:
          if (::unlink(o.path.c_str()) != 0) die("unlink " + o.path);
          if (::close(fd) != 0) die("close " + o.path);
          fd = open_append(o.path);
          ++gen;
          break;
      }
      if (i >= end) break;
    }
    emit(fd, i, gen);
    ++i;
  }
  if (::close(fd) != 0) die("close " + o.path);
  if (loss_fd >= 0 && ::close(loss_fd) != 0) die("close " + o.loss_log);
  return 0;
}
