#include "sluice/progress.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace sluice {

std::uint64_t regular_input_bytes(const config& cfg) {
  if (cfg.inputs.empty()) return 0;
  std::uint64_t total = 0;
  for (const auto& path : cfg.inputs) {
    struct stat st {};
    if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    total += static_cast<std::uint64_t>(st.st_size);
  }
  return total;
}

namespace {
std::string clock_text(double s) {
  const auto t = static_cast<long>(s + 0.5);
  return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
}
}  // namespace

std::string progress_text(const pipeline_stats& stats, std::uint64_t total, double elapsed_s) {
  const double done = static_cast<double>(stats.reader.bytes_in.load(std::memory_order_relaxed));
  const double events = static_cast<double>(stats.sink.events_out.load(std::memory_order_relaxed));
  const double mib = 1024.0 * 1024.0;
  const double rate = elapsed_s > 0 ? done / elapsed_s : 0;
  const double pct = total ? 100.0 * done / static_cast<double>(total) : 0;
  const std::string eta = rate > 0 && total ? clock_text((static_cast<double>(total) - done) / rate) : "-";
  return fmt::format("sluice: {:.1f}/{:.1f} MiB {:3.0f}%  {:.1f} MiB/s  {:.0f} events/s  ETA {}  bottleneck: {}",
                     done / mib, static_cast<double>(total) / mib, pct, rate / mib,
                     elapsed_s > 0 ? events / elapsed_s : 0, eta, stats.bottleneck());
}

progress_line::progress_line(const config& cfg, const pipeline_stats& stats, std::FILE* out)
    : stats_(stats), out_(out) {
  if (!cfg.progress || !::isatty(::fileno(out_))) return;
  total_ = regular_input_bytes(cfg);
  if (total_ == 0) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [&] { return stopped_; })) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - stats_.started).count();
      // '\r' and erase-to-end-of-line: the line rewrites itself in place.
      std::fprintf(out_, "\r%s\x1b[K", progress_text(stats_, total_, elapsed).c_str());
      std::fflush(out_);
    }
  });
}

progress_line::~progress_line() { stop(); }

void progress_line::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) {
    thread_.join();
    std::fprintf(out_, "\r\x1b[K");
    std::fflush(out_);
  }
}

}  // namespace sluice
