#include "sluice/app.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/metrics.hpp"
#include "sluice/progress.hpp"
#include "sluice/registry.hpp"
#include "sluice/source/source.hpp"
#include "sluice/source/checkpoint.hpp"

namespace sluice {

namespace {

// Periodic --stats lines on a thread of their own. A line that cannot be written is
// warned about once and counted, and makes the exit code 1: stats are output too.
class stats_reporter {
 public:
  stats_reporter(const pipeline_stats& stats, std::FILE* out, std::string name, double interval_s)
      : stats_(stats), out_(out), name_(std::move(name)) {
    if (interval_s <= 0) return;
    thread_ = std::thread([this, interval_s] {
      std::unique_lock lock(mutex_);
      const auto period = std::chrono::duration<double>(interval_s);
      while (!cv_.wait_for(lock, period, [&] { return stopped_; })) print("interval");
    });
  }
  ~stats_reporter() { stop(); }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void print(const char* kind) {
    const std::string line = stats_.to_json(kind);
    const bool ok = std::fprintf(out_, "%s\n", line.c_str()) >= 0 && std::fflush(out_) == 0;
    if (ok) return;
    if (failures_.fetch_add(1, std::memory_order_relaxed) == 0)
      spdlog::warn("cannot write stats to {}: {}", name_, std::strerror(errno));
    std::clearerr(out_);
  }
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  const pipeline_stats& stats_;
  std::FILE* out_;
  std::string name_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::atomic<std::uint64_t> failures_{0};
  std::thread thread_;
};

}  // namespace

app::app(config cfg, app_overrides overrides) : cfg_(std::move(cfg)), stats_(std::make_unique<pipeline_stats>()) {
  cfg_.resolve_defaults();
  pipeline_parts parts;
  parts.out = overrides.out ? std::move(overrides.out) : make_sink(cfg_.output, cfg_);
  parts.dead = std::move(overrides.dead);
  if (!parts.dead && !cfg_.dead_letter.empty()) parts.dead = std::make_unique<fd_output>(cfg_.dead_letter);
  if (!cfg_.checkpoint.empty())
    checkpoints_ = std::make_unique<checkpoint_store>(cfg_.checkpoint, cfg_.reset_checkpoint);
  parts.checkpoints = checkpoints_.get();
  parts.in = overrides.in ? overrides.in(cfg_, stats_->reader) : make_source(cfg_, stats_->reader, checkpoints_.get());
  stats_->reader.component.type = parts.in->type();
  stats_->parse.component.type = "json";
  stats_->sink.component.type = parts.out->type();
  pipeline_ = std::make_unique<pipeline>(cfg_, *stats_, std::move(parts), std::move(overrides.hooks));
  if (!cfg_.metrics_host.empty())
    metrics_ = std::make_unique<metrics_server>(*stats_, listen_address{cfg_.metrics_host, cfg_.metrics_port},
                                                cfg_.stall_timeout_s);
}

app::~app() {
  metrics_.reset();  // stop serving before the stats it reads go away
}

int app::metrics_port() const { return metrics_ ? metrics_->port() : 0; }

void app::stop() { pipeline_->stop(); }

void app::reopen_outputs() { pipeline_->reopen_outputs(); }

run_result app::run() {
  std::FILE* stats_out = stderr;
  if (cfg_.stats && !cfg_.stats_file.empty()) {
    stats_out = std::fopen(cfg_.stats_file.c_str(), "a");
    if (stats_out == nullptr) {
      return {exit_code::runtime_failure,
              fmt::format("cannot open --stats-file {}: {}", cfg_.stats_file, std::strerror(errno)), 0};
    }
  }
  stats_reporter reporter(*stats_, stats_out, cfg_.stats_file.empty() ? "stderr" : cfg_.stats_file,
                          cfg_.stats ? cfg_.stats_interval_s : 0);
  progress_line progress(cfg_, *stats_);

  const pipeline_result p = pipeline_->run();
  auto& s = stats_->sink;
  // The sink is blocked inside a write that never returns: what it got out is written, the
  // rest will never be. Counted now, so the final stats and the message agree.
  if (p.stuck) pipeline_->count_stuck();
  progress.stop();
  reporter.stop();
  if (cfg_.stats) reporter.print("final");

  run_result r;
  r.undelivered = s.undelivered_events.load();
  if (p.stuck) {
    // The threads cannot be joined; the caller must exit the process (main does).
    r.code = exit_code::runtime_failure;
    r.message = fmt::format("drain timed out after {} s with the output blocked: {} events read were not delivered",
                            cfg_.drain_timeout_s, r.undelivered);
    r.must_exit = true;
    return r;
  }
  if (stats_out != stderr && std::fclose(stats_out) != 0 && reporter.failures() == 0)
    spdlog::warn("cannot write stats to {}: {}", cfg_.stats_file, std::strerror(errno));
  if (p.status == sink_status::failed) {
    r.code = exit_code::runtime_failure;
    r.message = p.error;
  } else if (p.status == sink_status::closed) {
    r.code = exit_code::ok;  // stdout's reader went away: a normal end, quietly
  } else if (r.undelivered > 0) {
    r.code = exit_code::runtime_failure;
    r.message = fmt::format("drain timed out after {} s: {} events read were not delivered", cfg_.drain_timeout_s,
                            r.undelivered);
  } else if (checkpoints_ && checkpoints_->save_failed()) {
    r.code = exit_code::runtime_failure;
    r.message = fmt::format("the checkpoint {} could not be saved: a restart would read again", cfg_.checkpoint);
  } else if (p.failed_inputs > 0) {
    r.code = exit_code::runtime_failure;
    r.message = fmt::format("{} input(s) could not be read", p.failed_inputs);
  } else if (reporter.failures() > 0) {
    r.code = exit_code::runtime_failure;
    r.message = fmt::format("{} stats line(s) could not be written to {}", reporter.failures(),
                            cfg_.stats_file.empty() ? "stderr" : cfg_.stats_file);
  }
  const auto invalid = stats_->parse.invalid.load() + stats_->parse.oversize.load();
  if (invalid > 0 && cfg_.dead_letter.empty())
    spdlog::warn("{} lines were invalid or oversize and skipped (keep them with --dead-letter PATH)", invalid);
  const auto dropped = s.dropped_events.load();
  if (dropped > 0) spdlog::warn("{} events dropped because the sink was full (--on-full drop)", dropped);
  const auto rejected = s.rejected_events.load();
  if (rejected > 0)
    spdlog::warn("{} events were rejected by {} and {}", rejected, cfg_.output,
                 cfg_.dead_letter.empty() ? "only counted (keep them with --dead-letter PATH)"
                                          : "written to the dead letter");
  return r;
}

}  // namespace sluice
