#include "sluice/source/file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/source/checkpoint.hpp"

namespace sluice {

file_source::file_source(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints)
    : source(cfg, stats, checkpoints) {}

std::string_view file_source::type() const {
  const bool only_stdin = std::all_of(cfg_.inputs.begin(), cfg_.inputs.end(), [](const std::string& p) { return p == "-"; });
  return only_stdin ? "stdin" : "file";
}

void file_source::run(emitter& h) {
  std::vector<std::string> paths = cfg_.inputs;
  if (paths.empty()) paths.push_back("-");
  for (std::size_t i = 0; i < paths.size() && !stopping(); ++i) {
    const bool is_stdin = paths[i] == "-";
    const int fd = is_stdin ? STDIN_FILENO : ::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      spdlog::error("cannot open {}: {}", paths[i], std::strerror(errno));
      input_failed();
      continue;
    }
    if (!read_input(paths[i], fd, h)) input_failed();
    if (!is_stdin) ::close(fd);
  }
}

bool file_source::read_input(const std::string& path, int fd, emitter& h) {
  const std::string name = path == "-" ? "stdin" : path;
  struct stat st {};
  bool pollable = true;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      spdlog::error("cannot read {}: it is a directory", name);
      return false;
    }
    pollable = !S_ISREG(st.st_mode);
    // A bigger pipe lets the writer run ahead while a batch is cut (DESIGN.md §1); the
    // size comes from the config so it stays within the read-ahead it feeds.
    if (S_ISFIFO(st.st_mode)) ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(cfg_.pipe_bytes()));
  }
  // A regular file a checkpoint knows continues where the last run finished with it.
  std::string identity;
  std::uint64_t start = 0;
  if (checkpoints_ != nullptr && !pollable) {
    if (auto id = file_identity(fd)) {
      identity = *id;
      if (auto off = checkpoints_->offset(identity)) {
        start = std::min<std::uint64_t>(*off, static_cast<std::uint64_t>(st.st_size));
        if (::lseek(fd, static_cast<off_t>(start), SEEK_SET) < 0) start = 0;
      }
    }
  }
  const input_source& src = add_source(name, identity);
  fd_stream in(fd, wake_fd_);
  in.set_pollable(pollable);
  line_framer framer(cfg_.batch_bytes, cfg_.max_line_bytes);
  framer.start_input(start);
  // With a checkpoint a file may still be written to: an unterminated last line is held
  // back (and not checkpointed) so the next run reads it whole instead of in two pieces.
  framer.set_follow(checkpoints_ != nullptr && !pollable);
  for (;;) {
    const auto status = read_batch(h, framer, in, src);
    if (!status || *status == line_framer::status::ended) return true;
    if (*status == line_framer::status::idle) {
      if (framer.holding())
        spdlog::warn("{}: its last line has no newline yet; left for the next run (--checkpoint)", name);
      return true;
    }
    if (*status == line_framer::status::failed) {
      spdlog::error("reading {}: {}{}", name, std::strerror(framer.last_errno()),
                    framer.discarded() ? fmt::format(" ({} bytes of an unfinished line dropped)", framer.discarded())
                                       : std::string());
      return false;
    }
    if (stopping()) return true;
  }
}

}  // namespace sluice
