#include "sluice/stats.hpp"

#include <fmt/format.h>

namespace sluice {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {
std::uint64_t get(const counter& c) { return c.load(std::memory_order_relaxed); }
double ms(const counter& c) { return static_cast<double>(get(c)) / 1e6; }
double ms(const wait_time& w, std::int64_t now) { return static_cast<double>(w.total_ns(now)) / 1e6; }
std::string tokens(const token_gauge& g) {
  return fmt::format(R"("tokens":{{"limit":{},"in_use":{},"max":{}}})", g.limit,
                     g.in_use.load(std::memory_order_relaxed),
                     g.max_seen.load(std::memory_order_relaxed));
}
}  // namespace

std::string pipeline_stats::to_json(const char* kind) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto& r = reader;
  const auto& p = parse;
  const auto& s = sink;
  const auto now = now_ns();
  return fmt::format(
      R"({{"stats":"{}","elapsed_s":{:.3f},)"
      R"("reader":{{"bytes_in":{},"batches_out":{},"inputs_failed":{},"blocked_ms":{:.1f},{}}},)"
      R"("parse":{{"batches_in":{},"bytes_in":{},"lines_in":{},"events_out":{},"bytes_out":{},)"
      R"("invalid":{},"oversize":{},"empty":{},"filtered":{},"blocked_ms":{:.1f},{}}},)"
      R"("sink":{{"batches_in":{},"events_in":{},"events_out":{},"bytes_out":{},"dead_letter":{},)"
      R"("dropped_events":{},"dropped_bytes":{},"dropped_batches":{},"undelivered_events":{},)"
      R"("blocked_ms":{:.1f},"rate_wait_ms":{:.1f},"write_ms":{:.1f},"rate":{},"rate_bytes":{},{}}},)"
      R"("batches_alive":{{"in_use":{},"max":{},"limit":{}}}}})",
      kind, elapsed,
      get(r.bytes_in), get(r.batches_out), get(r.inputs_failed), ms(r.blocked, now), tokens(r.read_ahead),
      get(p.batches_in), get(p.bytes_in), get(p.lines_in), get(p.events_out), get(p.bytes_out),
      get(p.invalid), get(p.oversize), get(p.empty), get(p.filtered), ms(p.blocked_ns), tokens(p.tokens),
      get(s.batches_in), get(s.events_in), get(s.events_out), get(s.bytes_out), get(s.dead_letter_lines),
      get(s.dropped_events), get(s.dropped_bytes), get(s.dropped_batches), get(s.undelivered_events),
      ms(s.blocked_ns), ms(s.rate_wait, now), ms(s.write_ns), s.rate, s.rate_bytes, tokens(s.tokens),
      batches_alive.in_use.load(std::memory_order_relaxed),
      batches_alive.max_seen.load(std::memory_order_relaxed), batches_alive.limit);
}

}  // namespace sluice
