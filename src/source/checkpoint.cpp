#include "sluice/source/checkpoint.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "sluice/errors.hpp"
#include "sluice/json_string.hpp"

namespace sluice {

namespace {

constexpr std::size_t fingerprint_bytes = 1024;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::optional<std::string> file_identity(int fd) {
  char buf[fingerprint_bytes];
  std::size_t have = 0;
  while (have < sizeof buf) {
    const ssize_t n = ::pread(fd, buf + have, sizeof buf - have, static_cast<off_t>(have));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<std::size_t>(n);
  }
  const auto* nl = static_cast<const char*>(std::memchr(buf, '\n', have));
  std::size_t len = 0;
  if (nl != nullptr) {
    len = static_cast<std::size_t>(nl - buf);
  } else if (have == sizeof buf) {
    len = have;  // a first line longer than 1 KiB: its first 1 KiB
  } else {
    return std::nullopt;  // no complete first line yet
  }
  return fmt::format("{:016x}-{}", fnv1a({buf, len}), len);
}

checkpoint_store::checkpoint_store(std::string path, bool reset) : path_(std::move(path)) {
  // Fail now, not at the first save after hours of work.
  const auto slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  if (::access(dir.c_str(), W_OK) != 0)
    throw startup_error(fmt::format("cannot write checkpoint {}: {}: {}", path_, dir, std::strerror(errno)));
  // A directory read as a file looked "corrupt (not JSON)": say what it is, whatever
  // --reset-checkpoint says (a directory is never overwritten).
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw startup_error(S_ISDIR(st.st_mode)
                            ? fmt::format("checkpoint {} is a directory: name a file (e.g. {}/sluice.ckpt)", path_,
                                          path_.back() == '/' ? path_.substr(0, path_.size() - 1) : path_)
                            : fmt::format("checkpoint {} is not a regular file", path_));
  // Before reading: a second process must not even start from a checkpoint the first
  // is about to replace.
  const std::string lock_path = path_ + ".lock";
  lock_.fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_.fd < 0)
    throw startup_error(fmt::format("cannot lock checkpoint {}: {}: {}", path_, lock_path, std::strerror(errno)));
  if (::flock(lock_.fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const ssize_t n = ::pread(lock_.fd, buf, sizeof buf - 1, 0);
    std::string holder(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(lock_.fd);
    lock_.fd = -1;
    if (err == EWOULDBLOCK)
      throw startup_error(fmt::format("checkpoint {} is in use by another sluice (pid {}): one process per checkpoint",
                                      path_, holder.empty() ? "unknown" : holder));
    throw startup_error(fmt::format("cannot lock checkpoint {}: {}: {}", path_, lock_path, std::strerror(err)));
  }
  // The owner's pid, for the message above; the file stays (removing a lock file races).
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(lock_.fd, 0) != 0 || ::pwrite(lock_.fd, pid.data(), pid.size(), 0) < 0)
    spdlog::warn("checkpoint lock {}: cannot record the pid: {}", lock_path, std::strerror(errno));
  std::FILE* f = std::fopen(path_.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT) return;
    throw startup_error(fmt::format("cannot read checkpoint {}: {}", path_, std::strerror(errno)));
  }
  std::string text;
  char chunk[4096];
  for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) text.append(chunk, n);
  std::fclose(f);
  existed_ = true;

  auto corrupt = [&](std::string_view why) {
    if (reset) {
      spdlog::warn("checkpoint {} is unreadable ({}); starting over (--reset-checkpoint)", path_, why);
      entries_.clear();
      existed_ = false;
      return;
    }
    throw startup_error(fmt::format(
        "checkpoint {} is corrupt ({}); move it away, or pass --reset-checkpoint to start over", path_, why));
  };
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text).get(root) != simdjson::SUCCESS) {
    corrupt("not JSON");
    return;
  }
  std::int64_t version = 0;
  simdjson::dom::array files;
  if (root["version"].get(version) != simdjson::SUCCESS || version != 1) {
    corrupt("no version 1");
    return;
  }
  if (root["files"].get(files) != simdjson::SUCCESS) {
    corrupt("no files list");
    return;
  }
  for (auto f : files) {
    std::string_view id, p;
    std::uint64_t off = 0;
    if (f["id"].get(id) != simdjson::SUCCESS || f["path"].get(p) != simdjson::SUCCESS ||
        f["offset"].get(off) != simdjson::SUCCESS)
      {
    corrupt("an entry lacks id, path or offset");
    return;
  }
    entries_[std::string(id)] = {std::string(p), off};
  }
}

checkpoint_store::fd_holder::~fd_holder() {
  if (fd >= 0) ::close(fd);
}

checkpoint_store::~checkpoint_store() = default;

std::optional<std::uint64_t> checkpoint_store::offset(const std::string& identity) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(identity);
  if (it == entries_.end()) return std::nullopt;
  return it->second.offset;
}

void checkpoint_store::commit(const std::string& identity, const std::string& path, std::uint64_t offset) {
  std::lock_guard lock(mutex_);
  auto& e = entries_[identity];
  e.touched = ++commits_;
  if (e.offset == offset && e.path == path) return;
  e.path = path;
  e.offset = offset;
  dirty_ = true;
  if (entries_.size() > max_entries + max_entries / 8) {
    std::vector<std::pair<std::uint64_t, std::string>> by_age;
    for (const auto& [id, en] : entries_) by_age.emplace_back(en.touched, id);
    std::sort(by_age.begin(), by_age.end());
    for (std::size_t i = 0; i + max_entries < by_age.size(); ++i) entries_.erase(by_age[i].second);
  }
}

bool checkpoint_store::save() {
  std::string text = "{\"version\":1,\"files\":[";
  {
    std::lock_guard lock(mutex_);
    if (!dirty_ && existed_) return true;
    bool first = true;
    for (const auto& [id, e] : entries_) {
      if (!first) text += ',';
      first = false;
      text += "\n{\"id\":\"";
      append_json_string(text, id);
      text += "\",\"path\":\"";
      append_json_string(text, e.path);  // informative only; invalid UTF-8 shown as U+FFFD
      text += fmt::format("\",\"offset\":{}}}", e.offset);
    }
    dirty_ = false;
    existed_ = true;
  }
  text += "\n]}\n";
  // Temp file, fsync, rename: a crash leaves the old checkpoint or the new one, whole.
  // Named per process, so nothing else can rename or truncate it under us.
  const std::string tmp = fmt::format("{}.tmp.{}", path_, ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  for (std::size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  ok = ok && ::rename(tmp.c_str(), path_.c_str()) == 0;
  if (!ok) {
    const int err = errno;
    if (fd >= 0) ::unlink(tmp.c_str());
    const auto failures = save_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    spdlog::error("cannot save checkpoint {}: {} ({} failed saves; retried at the next interval)", path_,
                  std::strerror(err), failures);
    std::lock_guard lock(mutex_);
    dirty_ = true;
  }
  save_failed_.store(!ok, std::memory_order_relaxed);
  return ok;
}

}  // namespace sluice
