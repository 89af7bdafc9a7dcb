#include "sluice/config.hpp"

#include <algorithm>
#include <thread>

#include "sluice/batch.hpp"

namespace sluice {

void config::resolve_defaults() {
  if (parse_threads == 0) parse_threads = std::max(1u, std::thread::hardware_concurrency());
  if (parse_tokens == 0) parse_tokens = 2 * std::size_t{parse_threads};
}

std::size_t config::largest_buffer_bytes() const {
  return std::max(batch_bytes, max_line_bytes + 1) + parse_padding;
}

std::size_t config::max_batches_alive() const { return read_ahead + parse_tokens + sink_tokens + 1; }

std::size_t config::pipe_bytes() const {
  // 1 MiB lets a writer run ahead while a batch is parsed; never more than the
  // read-ahead it feeds, never under the 64 KiB a pipe has anyway.
  return std::clamp(read_ahead * batch_bytes, std::size_t{64} << 10, std::size_t{1} << 20);
}

std::size_t config::memory_budget() const {
  // Input buffers and output buffers (each at most the size of its input, for the json
  // passthrough), plus one DOM parser per thread: simdjson's DOM needs about 12 bytes of
  // tape and string space per input byte of what it parses at once, the largest line or
  // a whole batch (parse.hpp).
  const std::size_t per_batch = 2 * largest_buffer_bytes();
  const std::size_t per_parser = 12 * std::max(max_line_bytes, batch_bytes);
  return max_batches_alive() * per_batch + std::size_t{parse_threads} * per_parser;
}

double config::event_burst() const {
  if (burst) return *burst;
  return std::max(1.0, rate / 10.0);
}

double config::byte_burst() const {
  if (burst_bytes) return *burst_bytes;
  return std::max(rate_bytes / 10.0, static_cast<double>(max_line_bytes));
}

}  // namespace sluice
