// Checkpoints (DESIGN.md §6): per input identity, the offset just past the last event
// finished with (written, filtered, invalid or dropped and counted), so a restart
// continues there: at-least-once, never ahead of the output.
//
// A file's identity is a fingerprint of its content, not its name or inode: a hash of
// its first line (at most its first 1 KiB). A renamed file, and the copy copytruncate
// leaves, are the same stream; a new file reusing an old inode is new. Known limit: two
// files that begin with the very same first line are taken for one. A file without a
// complete first line has no identity yet and is not checkpointed.
//
// The file is JSON, written atomically (temp file PATH.tmp.PID, fsync, rename) by whoever
// made the output durable first (the sink thread, after fdatasync).
//
// One process per checkpoint: two would overwrite each other's saves. The store holds an
// exclusive flock on PATH.lock (which holds the owner's pid) for its whole life; the lock
// is on a file of its own because every save replaces PATH itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sluice {

// The identity of the file open on fd: nullopt while it has no complete first line.
std::optional<std::string> file_identity(int fd);

class checkpoint_store {
 public:
  // Locks PATH.lock, then reads PATH if it exists. A checkpoint another process holds
  // throws startup_error naming its pid; a corrupt or unreadable file throws
  // startup_error unless `reset` (then it is ignored and overwritten at the next save).
  checkpoint_store(std::string path, bool reset);
  ~checkpoint_store();
  checkpoint_store(const checkpoint_store&) = delete;
  checkpoint_store& operator=(const checkpoint_store&) = delete;

  // False when there was no checkpoint file (a first start).
  bool existed() const { return existed_; }
  // The saved offset for an identity, if any.
  std::optional<std::uint64_t> offset(const std::string& identity) const;
  // Records that everything before `offset` of `identity` (now at `path`) is finished
  // with. Thread-safe.
  void commit(const std::string& identity, const std::string& path, std::uint64_t offset);
  // Writes the file atomically; false (a logged error, counted) on failure. What failed
  // to be saved stays dirty, so the next save (the next interval, or the exit) retries.
  bool save();
  // The last save failed (the run then ends with exit 1).
  bool save_failed() const { return save_failed_.load(std::memory_order_relaxed); }
  // Saves that failed so far (for stats). Any thread.
  std::uint64_t save_failures() const { return save_failures_.load(std::memory_order_relaxed); }

 private:
  struct entry {
    std::string path;
    std::uint64_t offset = 0;
    std::uint64_t touched = 0;  // commit count when last committed, for pruning
  };
  // Rotation makes a new identity every time: beyond this many, the entries committed
  // longest ago are forgotten (a forgotten file, should it come back, is read again).
  static constexpr std::size_t max_entries = 4096;
  std::uint64_t commits_ = 0;
  std::string path_;
  bool existed_ = false;
  mutable std::mutex mutex_;
  std::map<std::string, entry> entries_;
  bool dirty_ = false;
  std::atomic<bool> save_failed_{false};
  std::atomic<std::uint64_t> save_failures_{0};
  // Closed (the lock released) also when the constructor throws after taking it.
  struct fd_holder {
    int fd = -1;
    fd_holder() = default;
    fd_holder(const fd_holder&) = delete;
    fd_holder& operator=(const fd_holder&) = delete;
    ~fd_holder();
  };
  fd_holder lock_;
};

}  // namespace sluice
