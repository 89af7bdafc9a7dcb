// -F/--follow: files followed as they grow and rotate, like `tail -F` (DESIGN.md §6).
//
// A *content* is a stream of bytes known by its identity (checkpoint.hpp: a fingerprint
// of its first line); a *file* is an open descriptor that shows one content, or none yet
// (no complete first line). A content has one framer and one position, whichever file
// its bytes are read from: the biggest file showing it, since a copy is a snapshot and
// the original grows. So a renamed file, the copy copytruncate leaves, and the original
// are read as one stream: nothing twice, and the copy supplies what the truncated
// original no longer has.
//
// One reader thread reads every content that has grown, a few batches at a time each, so
// files are independent and the events of one file keep their order. It sleeps on
// inotify (directory watches: a write, a create, a rename wakes it) or, with --poll=MS,
// on a timer; never on a TBB worker. Globs are re-evaluated every second and on
// directory events, so files that appear later are picked up.
//
// Where reading starts: a content the checkpoint knows continues at its offset; files
// present at the very first start begin at their end (after their last complete line)
// or, with --from-start, at 0; every content found later starts at 0.
//
// Rotation:
// - rename + create: the old file (same inode, new name or none) is drained and let go
//   once quiet for a moment (a slow writer still appending is read too); the new file at
//   the path is a new content, read from 0.
// - copytruncate: the original's size drops (or its first line changes): it shows a new
//   content from 0; the old content goes on from any copy that shows it.
// - delete: the open file is drained, then let go; the path is waited for again.
// A content's unterminated last line is held until its newline arrives, as an offset:
// the bytes stay in the file and are read again then, so memory does not grow with the
// number of files followed. It goes on without its newline when no file shows that
// content any more (rotated away, deleted or truncated, and drained; read back into
// memory as its file is let go of) and at shutdown without a checkpoint.
//
// File descriptors: --max-open-files is fitted to RLIMIT_NOFILE at start-up (the soft
// limit raised up to the hard one when needed). Beyond the descriptors that leaves
// (fd_cap_), or when open() says EMFILE/ENFILE anyway, a file is not "missing": it waits
// in a pending set, and the open set is rotated: drained files are closed first, then
// files that have had a turn at reading, oldest first, so every file is read within a
// bounded number of passes. A file never opened by the end is a failed input.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <sys/stat.h>
#include <utility>
#include <vector>

#include "sluice/source/source.hpp"

namespace sluice {

class follow_source final : public source {
 public:
  follow_source(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints);
  ~follow_source() override;
  std::string_view type() const override { return "follow"; }
  void run(emitter& h) override;

 private:
  struct followed_file;
  struct content;

  void watch_directories();
  // Re-evaluates the patterns: opens new files, notices rotated and deleted ones.
  void scan(bool first_start);
  void open_file(const std::string& path, bool first_start);
  // Size and first line re-checked after a change: which content the file shows now.
  void check_file(followed_file& f, bool first_start);
  content& content_for(const std::string& identity, const followed_file& f, bool first_start);
  // Reads what is there for one content (a few batches); false when stopping.
  bool read_content(content& c, emitter& h, bool& read_any);
  // Ends contents no file shows any more, lets go of drained rotated files.
  bool retire(emitter& h);
  void wait_for_change(int timeout_ms);
  // While the pipeline is full, keeps opening new files: one created and deleted while
  // sluice waits is then still held open, and read later (nothing is lost to backpressure).
  batch* acquire(emitter& h) override;
  bool scan_while_waiting_ = true;
  // --max-open-files: closes drained files idle for a second, oldest first, beyond the
  // limit; they are reopened by path when they change.
  void park_idle();
  // Opens `path` for reading unless fd_cap_ files are open already (err -1) or open()
  // fails (err: its errno; EMFILE/ENFILE lower fd_cap_ to what is open now).
  int open_path(const std::string& path, int& err);
  // A file that could not be opened for lack of a descriptor waits for one.
  void defer(const std::string& path, int err, bool first_start);
  // Counts a wait for a descriptor (reader_stats::open_deferred); warns the first time.
  void note_wait(const std::string& path, int err);
  // Closes a followed file's descriptor; it is reopened by path (in its turn, if it has
  // data left).
  void park(followed_file& f);
  // Gives descriptors to the files waiting for one, closing others that had their turn.
  void rotate_open_set();
  // An undrained parked file whose path names another file now: finds it under its
  // rotated name (path.N, path-DATE).
  bool find_moved(followed_file& f);
  // A content's unfinished line is held as an offset (it is in the file); read back into
  // memory from `fd` when the file is let go of, or at shutdown.
  bool reload_held(content& c, int fd, emitter& h);
  // A descriptor on a file showing `c` (a parked one reopened), or -1.
  int fd_showing(content& c);
  std::size_t open_files_ = 0;  // followed files with a descriptor now
  std::size_t max_open_ = 0;    // --max-open-files, fitted to the open-file limit
  std::size_t fd_cap_ = 0;      // the most followed files open at once
  std::size_t fd_limit_ = 0;    // RLIMIT_NOFILE (soft), for messages
  struct pending_open {
    std::int64_t since_ns = 0;
    bool first_start = false;
  };
  std::map<std::string, pending_open> pending_;  // paths waiting for a descriptor
  void find_rotated_siblings();
  bool poke_parked_ = false;
  bool stopped_reading_ = false;  // shutdown: only held lines are handed on

  std::vector<std::string> patterns_;
  std::vector<std::unique_ptr<followed_file>> files_;
  std::map<std::string, std::unique_ptr<content>> contents_;
  std::map<std::string, std::uint64_t> finished_;  // identity -> offset, contents ended this run
  std::set<std::string> warned_;
  std::set<std::string> watched_;        // directories with an inotify watch
  std::set<std::string> unfollowable_;   // plain paths that are directories, FIFOs, devices
  // Whether the file is one of sluice's outputs (-o, --dead-letter, --stats-file), now or
  // at an earlier look (a rotated output keeps its inode).
  bool own_output(const struct stat& st) const;
  void note_own_outputs();
  std::set<std::pair<dev_t, ino_t>> own_files_;
  int inotify_fd_ = -1;
  bool rescan_ = true;
};

}  // namespace sluice
