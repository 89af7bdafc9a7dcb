// stdout ("-") and files: the sink that is acknowledged as soon as its bytes are written.
//
// `output` is the byte writer under it (and under the dead-letter file): the base loops over
// partial writes, retries EINTR, maps errors to a status, and on a failed write cuts a
// regular file back to where that write began, so a full disk never leaves half an event
// that the next run would glue to its first record. A new byte output is write_some()
// and describe() (as spdlog's base_sink does for its sinks).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/sink/sink.hpp"

namespace sluice {

enum class write_status {
  ok,
  closed,  // the reader went away (EPIPE on stdout): a normal end
  failed,  // anything else (a full disk, EPIPE on a file or other output)
};

class output {
 public:
  virtual ~output() = default;
  write_status write(std::string_view bytes);
  // Reopens by path (SIGHUP, for logrotate of sluice's own output). Default: nothing.
  virtual void reopen() {}
  // Makes what was written durable (fsync/fdatasync). Default: nothing.
  virtual void sync() {}
  const std::string& error() const { return error_; }
  virtual std::string describe() const = 0;
  // Whole lines of the write in progress that are already out: a write blocked part-way
  // (a pipe nobody reads) has delivered them. Any thread, while that write is blocked.
  std::uint64_t lines_out_of_write_in_progress() const;

 protected:
  // Returns bytes written or -1 with errno set.
  virtual long write_some(const char* data, std::size_t n) = 0;
  // Whether an EPIPE from this output is a normal end (stdout only).
  virtual bool broken_pipe_is_end() const { return false; }
  // A write failed after `partial` of its bytes went out: take them back if possible.
  virtual void undo_partial(std::size_t /*partial*/) {}

 private:
  std::string error_;
  std::atomic<const char*> in_progress_{nullptr};  // the bytes of the write in progress
  std::atomic<std::size_t> in_progress_out_{0};    // how many of them are out
};

// stdout ("-") or a file opened for appending (created 0644 if missing). A file that
// does not end in a newline (a record cut short by an earlier crash) gets one first.
class fd_output final : public output {
 public:
  explicit fd_output(std::string path);  // throws startup_error
  ~fd_output() override;
  void reopen() override;
  void sync() override;
  std::string describe() const override;

 protected:
  long write_some(const char* data, std::size_t n) override;
  bool broken_pipe_is_end() const override { return is_stdout_; }
  void undo_partial(std::size_t partial) override;

 private:
  int open_for_append() const;
  std::string path_;
  int fd_ = -1;
  bool is_stdout_ = false;
  // A pipe takes at most this much a write, so a write blocked on a reader that went
  // quiet has returned for everything that is in the pipe (0: no limit).
  std::size_t pipe_bytes_ = 0;
};

class file_sink final : public sink {
 public:
  explicit file_sink(std::unique_ptr<output> out);
  void send(const send_request& r) override;
  void reopen() override { out_->reopen(); }
  void sync() override { out_->sync(); }
  std::string_view type() const override { return type_; }
  std::string describe() const override { return out_->describe(); }
  std::uint64_t events_out_of_send_in_progress() const override { return out_->lines_out_of_write_in_progress(); }

 private:
  std::unique_ptr<output> out_;
  std::string type_;
};

// `-o -` and `-o PATH` (the registry's entry for addresses without a scheme).
std::unique_ptr<sink> make_file_sink(const std::string& address);

}  // namespace sluice
