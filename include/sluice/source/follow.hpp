// -F/--follow: files followed as they grow and rotate, like `tail -F` (DESIGN.md §6).
//
// One reader thread keeps every followed file open and reads those that grew, a few
// batches at a time each, so files are independent and events of one file keep their
// order. It sleeps on inotify (directory watches: a write, a create, a rename wakes it)
// or, with --poll=MS, on a timer; never on a TBB worker. Globs are re-evaluated about
// every second and on directory events, so files that appear later are picked up.
//
// Where reading starts: a file the checkpoint knows continues at its offset; files
// present at the very first start begin at their end (after their last complete line)
// or, with --from-start, at 0; every file found later starts at 0.
//
// Rotation, by identity (checkpoint.hpp: a fingerprint of the first line) and inode:
// - rename + create: the old inode is still open; it is drained to its end and let go
//   once quiet for a moment (a slow writer still writing to it is read too); the new
//   file at the path is read from 0. A renamed file that the glob matches again is the
//   same open file (same inode): never read twice.
// - copytruncate: the file shrinks (or its first line changes): its held unfinished
//   line goes on, and it is read again from 0 as a new content. A copy matched by the
//   glob has the old content's identity and supplies what had not been read, from where
//   reading had got to. (Lines written between the copy and the truncation are lost by
//   the rotator, not by sluice.)
// - delete: the open file is drained, then released; the path is waited for again.
// An unterminated last line is held until its newline arrives; it goes on without one
// only when its file is rotated away, deleted or truncated.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sluice/source.hpp"

namespace sluice {

class follow_reader final : public input_reader {
 public:
  follow_reader(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints);
  ~follow_reader() override;
  std::uint64_t run(const handoff& h) override;

 private:
  struct followed_file;

  void watch_directories();
  // Re-evaluates the patterns: opens new files, notices rotated and deleted ones.
  void scan(bool first_start);
  void open_file(const std::string& path, bool first_start);
  // Truncation, or a first line that changed: the content starts again at 0.
  bool check_truncated(followed_file& f, const handoff& h);
  // Reads what is there (at most a few batches); false when the pipeline is stopping.
  bool read_some(followed_file& f, const handoff& h, bool& read_any);
  void release(followed_file& f, const handoff& h);
  bool identity_active(const std::string& identity) const;
  void refresh_identity(followed_file& f);
  void wait_for_change(int timeout_ms);

  std::vector<std::string> patterns_;
  std::vector<std::unique_ptr<followed_file>> files_;
  std::map<std::string, std::uint64_t> reached_;  // identity -> offset read up to, for copies
  std::set<std::string> warned_;
  int inotify_fd_ = -1;
  bool rescan_ = true;
};

}  // namespace sluice
