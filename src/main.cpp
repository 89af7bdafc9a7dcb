// main only wires the command line and signals to the app (app.hpp, the composition
// root) and exits with the code it reports (DESIGN.md §4).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <pthread.h>
#include <thread>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "sluice/app.hpp"
#include "sluice/cli.hpp"
#include "sluice/errors.hpp"

namespace {

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("sluice");
  logger->set_pattern("sluice: %^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));  // validated by the CLI
}

// Signals are taken by one thread with sigwait(), so the pipeline's threads never run
// a handler and stop() can lock and notify like any other call.
void watch_signals(sluice::app& p, const sigset_t& set) {
  std::thread([&p, set] {
    bool stopping = false;
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGHUP) {
        p.reopen_outputs();
        continue;
      }
      if (stopping) std::_Exit(128 + sig);  // a second signal: exit at once
      stopping = true;
      spdlog::info("signal {}: stopping, draining for at most {} s", sig, p.cfg().drain_timeout_s);
      p.stop();
    }
  }).detach();
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<sluice::config> cfg;
  try {
    cfg = sluice::parse_command_line(argc, argv);
  } catch (const sluice::usage_error& e) {
    std::fprintf(stderr, "sluice: %s\n", e.what());
    return static_cast<int>(sluice::exit_code::usage);
  }
  if (!cfg) return 0;
  setup_logging(cfg->log_level);

  // A write to a closed pipe must come back as EPIPE (handled per output), not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  // Blocked before any thread starts, so every thread inherits the mask.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  try {
    sluice::app p(*cfg);
    spdlog::debug("config: threads={} batch={}B max_line={}B read_ahead={} parse_tokens={} sink_tokens={} "
                  "rate={}/s rate_bytes={}B/s on_full={}",
                  p.cfg().parse_threads, p.cfg().batch_bytes, p.cfg().max_line_bytes, p.cfg().read_ahead,
                  p.cfg().parse_tokens, p.cfg().sink_tokens, p.cfg().rate, p.cfg().rate_bytes,
                  p.cfg().on_full == sluice::on_full_policy::drop ? "drop" : "block");
    spdlog::info("memory budget: {} batches alive at most, {:.1f} MiB for batches and parsers (+ fixed overhead)",
                  p.cfg().max_batches_alive(), static_cast<double>(p.cfg().memory_budget()) / (1 << 20));
    watch_signals(p, set);
    const auto r = p.run();
    if (!r.message.empty()) spdlog::error("{}", r.message);
    std::fflush(stdout);
    spdlog::shutdown();
    // Exit without unwinding: the signal thread may still be in sigwait().
    std::_Exit(static_cast<int>(r.code));
  } catch (const sluice::usage_error& e) {
    // A flag only setting up can check (--max-open-files against ulimit -n), or an
    // address no component takes.
    std::fprintf(stderr, "sluice: %s\n", e.what());
    return static_cast<int>(sluice::exit_code::usage);
  } catch (const sluice::startup_error& e) {
    std::fprintf(stderr, "sluice: %s\n", e.what());
    return static_cast<int>(sluice::exit_code::runtime_failure);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice: %s\n", e.what());
    return static_cast<int>(sluice::exit_code::runtime_failure);
  }
}
