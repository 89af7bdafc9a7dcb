#include "sluice/stats.hpp"

#include <iterator>
#include <stdexcept>
#include <utility>

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

component_counters::component_counters(std::string_view id_, std::string_view kind_,
                                       std::vector<std::string_view> discard_reasons,
                                       std::vector<std::string_view> error_types)
    : id(id_), kind(kind_) {
  for (auto r : discard_reasons) discarded_.at(discarded_n_++).name = r;
  for (auto e : error_types) errors_.at(errors_n_++).name = e;
}

counter& component_counters::find(std::array<named_count, max_names>& in, std::size_t n, std::string_view name) {
  for (std::size_t i = 0; i < n; ++i)
    if (in[i].name == name) return in[i].n;
  throw std::out_of_range(fmt::format("component counter '{}' was not named when the component was built", name));
}

namespace {
// {"id":..,"kind":..,"type":..,"received_events":..,..,"discarded_events":{..},"errors":{..}}
void component_json(std::string& out, const component_counters& c) {
  fmt::format_to(std::back_inserter(out),
                 R"({{"id":"{}","kind":"{}","type":"{}","received_events":{},"received_bytes":{},)"
                 R"("sent_events":{},"sent_bytes":{},"discarded_events":{{)",
                 c.id, c.kind, c.type, get(c.received_events), get(c.received_bytes), get(c.sent_events),
                 get(c.sent_bytes));
  const char* sep = "";
  c.each_discarded([&](std::string_view reason, std::uint64_t n) {
    fmt::format_to(std::back_inserter(out), R"({}"{}":{})", sep, reason, n);
    sep = ",";
  });
  out += R"(},"errors":{)";
  sep = "";
  c.each_error([&](std::string_view type, std::uint64_t n) {
    fmt::format_to(std::back_inserter(out), R"({}"{}":{})", sep, type, n);
    sep = ",";
  });
  out += "}}";
}
}  // namespace

std::string pipeline_stats::to_json(const char* kind) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto& r = reader;
  const auto& p = parse;
  const auto& s = sink;
  const auto now = now_ns();
  std::string components_json;
  for (const auto* c : components()) {
    if (!components_json.empty()) components_json += ',';
    component_json(components_json, *c);
  }
  return fmt::format(
      R"({{"stats":"{}","elapsed_s":{:.3f},)"
      R"("reader":{{"bytes_in":{},"batches_out":{},"inputs_failed":{},"open_deferred":{},"blocked_ms":{:.1f},{}}},)"
      R"("parse":{{"batches_in":{},"bytes_in":{},"lines_in":{},"events_out":{},"bytes_out":{},)"
      R"("invalid":{},"oversize":{},"empty":{},"filtered":{},"blocked_ms":{:.1f},{}}},)"
      R"("sink":{{"batches_in":{},"events_in":{},"events_out":{},"bytes_out":{},"dead_letter":{},)"
      R"("dropped_events":{},"dropped_bytes":{},"dropped_batches":{},"undelivered_events":{},)"
      R"("rejected_events":{},"retries":{},)"
      R"("blocked_ms":{:.1f},"rate_wait_ms":{:.1f},"write_ms":{:.1f},"rate":{},"rate_bytes":{},"rate_now":{:.1f},{}}},)"
      R"("batches_alive":{{"in_use":{},"max":{},"limit":{}}},"components":[{}]}})",
      kind, elapsed,
      get(r.bytes_in), get(r.batches_out), get(r.inputs_failed), get(r.open_deferred), ms(r.blocked, now), tokens(r.read_ahead),
      get(p.batches_in), get(p.bytes_in), get(p.lines_in), get(p.events_out), get(p.bytes_out),
      get(p.invalid), get(p.oversize), get(p.empty), get(p.filtered), ms(p.blocked_ns), tokens(p.tokens),
      get(s.batches_in), get(s.events_in), get(s.events_out), get(s.bytes_out), get(s.dead_letter_lines),
      get(s.dropped_events), get(s.dropped_bytes), get(s.dropped_batches), get(s.undelivered_events),
      get(s.rejected_events), get(s.retries), ms(s.blocked_ns), ms(s.rate_wait, now), ms(s.write_ns), s.rate, s.rate_bytes, s.rate_now(now), tokens(s.tokens),
      batches_alive.in_use.load(std::memory_order_relaxed),
      batches_alive.max_seen.load(std::memory_order_relaxed), batches_alive.limit, components_json);
}

void sink_stats::wrote(std::uint64_t events, std::int64_t now) {
  last_progress_ns.store(now, std::memory_order_relaxed);
  if (window_start_ns == 0) window_start_ns = now;
  window_events += events;
  const auto span = now - window_start_ns;
  if (span >= 1'000'000'000) {
    window_events_published_ns.store(now, std::memory_order_relaxed);
    current_rate.store(static_cast<double>(window_events) * 1e9 / static_cast<double>(span),
                       std::memory_order_relaxed);
    window_start_ns = now;
    window_events = 0;
  }
}

double sink_stats::rate_now(std::int64_t now) const {
  if (window_events_published_ns.load(std::memory_order_relaxed) == 0) return 0;
  const auto last = last_progress_ns.load(std::memory_order_relaxed);
  if (now - last > 2'000'000'000) return 0;
  return current_rate.load(std::memory_order_relaxed);
}

const char* pipeline_stats::bottleneck() const {
  auto full = [](const token_gauge& g) { return g.limit > 0 && g.in_use.load(std::memory_order_relaxed) >= g.limit; };
  if (full(sink.tokens)) return "output";
  if (full(parse.tokens)) return "parse";
  if (reader.read_ahead.in_use.load(std::memory_order_relaxed) == 0 && !reader.blocked.waiting()) return "input";
  return "none";
}

std::string pipeline_stats::to_prometheus() const {
  const auto now = now_ns();
  std::string out;
  out.reserve(4096);
  auto family = [&](const char* name, const char* type, const char* help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  auto sample = [&](const char* name, const char* stage, auto value) {
    if (stage) fmt::format_to(std::back_inserter(out), "{}{{stage=\"{}\"}} {}\n", name, stage, value);
    else fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
  };
  const auto& r = reader;
  const auto& p = parse;
  const auto& s = sink;

  family("sluice_bytes_in_total", "counter", "Bytes that entered a stage.");
  sample("sluice_bytes_in_total", "reader", get(r.bytes_in));
  sample("sluice_bytes_in_total", "parse", get(p.bytes_in));
  family("sluice_bytes_out_total", "counter", "Bytes a stage passed on (sink: written to the output).");
  sample("sluice_bytes_out_total", "parse", get(p.bytes_out));
  sample("sluice_bytes_out_total", "sink", get(s.bytes_out));
  family("sluice_batches_total", "counter", "Batches that entered a stage.");
  sample("sluice_batches_total", "parse", get(p.batches_in));
  sample("sluice_batches_total", "sink", get(s.batches_in));
  family("sluice_lines_total", "counter", "Non-empty lines the parse stage saw.");
  sample("sluice_lines_total", nullptr, get(p.lines_in));
  family("sluice_events_in_total", "counter", "Events that entered a stage.");
  sample("sluice_events_in_total", "sink", get(s.events_in));
  family("sluice_events_out_total", "counter", "Events a stage passed on (sink: written to the output).");
  sample("sluice_events_out_total", "parse", get(p.events_out));
  sample("sluice_events_out_total", "sink", get(s.events_out));
  family("sluice_invalid_lines_total", "counter", "Lines that are not a JSON object.");
  sample("sluice_invalid_lines_total", nullptr, get(p.invalid));
  family("sluice_oversize_lines_total", "counter", "Lines longer than --max-line-bytes.");
  sample("sluice_oversize_lines_total", nullptr, get(p.oversize));
  family("sluice_empty_lines_total", "counter", "Whitespace-only lines, skipped.");
  sample("sluice_empty_lines_total", nullptr, get(p.empty));
  family("sluice_filtered_events_total", "counter", "Events removed by the transform (--where).");
  sample("sluice_filtered_events_total", nullptr, get(p.filtered));
  family("sluice_dead_letter_lines_total", "counter", "Lines written to the dead-letter output.");
  sample("sluice_dead_letter_lines_total", nullptr, get(s.dead_letter_lines));
  family("sluice_dropped_events_total", "counter", "Events dropped because the sink was full (--on-full drop).");
  sample("sluice_dropped_events_total", nullptr, get(s.dropped_events));
  family("sluice_dropped_bytes_total", "counter", "Output bytes dropped because the sink was full.");
  sample("sluice_dropped_bytes_total", nullptr, get(s.dropped_bytes));
  family("sluice_undelivered_events_total", "counter", "Events abandoned at shutdown or after a write failure.");
  sample("sluice_undelivered_events_total", nullptr, get(s.undelivered_events));
  family("sluice_inputs_failed_total", "counter", "Inputs that could not be opened or read.");
  sample("sluice_inputs_failed_total", nullptr, get(r.inputs_failed));
  family("sluice_open_deferred_total", "counter",
         "Times a followed file had to wait for a file descriptor (read in turns).");
  sample("sluice_open_deferred_total", nullptr, get(r.open_deferred));
  family("sluice_rejected_events_total", "counter", "Events the destination refused for good (dead-lettered).");
  sample("sluice_rejected_events_total", nullptr, get(s.rejected_events));
  family("sluice_sink_retries_total", "counter", "Sends the destination asked to repeat.");
  sample("sluice_sink_retries_total", nullptr, get(s.retries));

  // Per component, the same names for every source, transform and sink.
  const auto comps = components();
  auto labels = [](const component_counters& c) {
    return fmt::format(R"(component_kind="{}",component_type="{}",component_id="{}")", c.kind, c.type, c.id);
  };
  const struct {
    const char* name;
    const char* help;
    counter component_counters::*field;
  } totals[] = {
      {"sluice_component_received_events_total", "Events (source: lines) a component received.",
       &component_counters::received_events},
      {"sluice_component_received_bytes_total", "Bytes a component received.", &component_counters::received_bytes},
      {"sluice_component_sent_events_total", "Events a component sent on (sink: acknowledged by the destination).",
       &component_counters::sent_events},
      {"sluice_component_sent_bytes_total", "Bytes a component sent on (sink: acknowledged by the destination).",
       &component_counters::sent_bytes}};
  for (const auto& t : totals) {
    family(t.name, "counter", t.help);
    for (const auto* c : comps) fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", t.name, labels(*c), get(c->*t.field));
  }
  family("sluice_component_discarded_events_total", "counter", "Events a component discarded, by reason.");
  for (const auto* c : comps)
    c->each_discarded([&](std::string_view reason, std::uint64_t n) {
      fmt::format_to(std::back_inserter(out), "sluice_component_discarded_events_total{{{},reason=\"{}\"}} {}\n",
                     labels(*c), reason, n);
    });
  family("sluice_component_errors_total", "counter", "Errors a component met, by type.");
  for (const auto* c : comps)
    c->each_error([&](std::string_view type, std::uint64_t n) {
      fmt::format_to(std::back_inserter(out), "sluice_component_errors_total{{{},error_type=\"{}\"}} {}\n",
                     labels(*c), type, n);
    });

  family("sluice_blocked_seconds_total", "counter",
         "Time waiting on backpressure: reader for a read-ahead slot; parse and sink summed over batches "
         "waiting for a token.");
  sample("sluice_blocked_seconds_total", "reader", static_cast<double>(r.blocked.total_ns(now)) / 1e9);
  sample("sluice_blocked_seconds_total", "parse", static_cast<double>(get(p.blocked_ns)) / 1e9);
  sample("sluice_blocked_seconds_total", "sink", static_cast<double>(get(s.blocked_ns)) / 1e9);
  family("sluice_rate_wait_seconds_total", "counter", "Time the sink waited for rate tokens.");
  sample("sluice_rate_wait_seconds_total", nullptr, static_cast<double>(s.rate_wait.total_ns(now)) / 1e9);
  family("sluice_write_seconds_total", "counter", "Time the sink spent handing events to its destination (write(2) for files).");
  sample("sluice_write_seconds_total", nullptr, static_cast<double>(get(s.write_ns)) / 1e9);

  const std::pair<const char*, const token_gauge*> gauges[] = {
      {"reader", &r.read_ahead}, {"parse", &p.tokens}, {"sink", &s.tokens}};
  family("sluice_tokens_in_use", "gauge", "Tokens a stage holds now (reader: read-ahead slots).");
  for (auto [stage, g] : gauges) sample("sluice_tokens_in_use", stage, g->in_use.load(std::memory_order_relaxed));
  family("sluice_tokens_max", "gauge", "Most tokens a stage has held at once.");
  for (auto [stage, g] : gauges) sample("sluice_tokens_max", stage, g->max_seen.load(std::memory_order_relaxed));
  family("sluice_tokens_limit", "gauge", "Tokens a stage may hold (--read-ahead, --parse-tokens, --sink-tokens).");
  for (auto [stage, g] : gauges) sample("sluice_tokens_limit", stage, g->limit);
  family("sluice_batches_alive", "gauge", "Batches alive now.");
  sample("sluice_batches_alive", nullptr, batches_alive.in_use.load(std::memory_order_relaxed));
  family("sluice_batches_alive_limit", "gauge", "Most batches that may be alive at once.");
  sample("sluice_batches_alive_limit", nullptr, batches_alive.limit);
  family("sluice_sink_rate_events_per_second", "gauge", "Events/s written over the last second.");
  sample("sluice_sink_rate_events_per_second", nullptr, s.rate_now(now));
  family("sluice_sink_rate_limit_events_per_second", "gauge", "--rate (0: unlimited).");
  sample("sluice_sink_rate_limit_events_per_second", nullptr, s.rate);
  family("sluice_sink_rate_limit_bytes_per_second", "gauge", "--rate-bytes (0: unlimited).");
  sample("sluice_sink_rate_limit_bytes_per_second", nullptr, s.rate_bytes);
  family("sluice_uptime_seconds", "gauge", "Seconds since sluice started.");
  sample("sluice_uptime_seconds", nullptr,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return out;
}

}  // namespace sluice
