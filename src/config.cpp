#include "sluice/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "sluice/batch.hpp"

namespace sluice {

void config::resolve_defaults() {
  if (parse_threads == 0) parse_threads = std::max(1u, std::thread::hardware_concurrency());
  if (parse_tokens == 0) parse_tokens = 2 * std::size_t{parse_threads};
}

std::size_t config::largest_buffer_bytes() const {
  return std::max(batch_bytes, max_line_bytes + 2) + parse_padding;
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

namespace {

std::optional<std::size_t> read_limit(const std::string& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text) || text == "max") return std::nullopt;
  std::size_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  // cgroup v1 writes "unlimited" as a page-rounded INT64_MAX.
  if (ec != std::errc() || p != text.data() + text.size() || v >= (std::size_t{1} << 62)) return std::nullopt;
  return v;
}

// The lowest limit in `base` + `path` and its parents, down to `base`.
std::optional<std::size_t> lowest_on_the_way_up(const std::string& base, std::string path, const char* file) {
  std::optional<std::size_t> lowest;
  for (;;) {
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (const auto v = read_limit(base + path + "/" + file)) lowest = std::min(lowest.value_or(*v), *v);
    if (path.empty()) return lowest;
    path.resize(path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
  }
}

}  // namespace

std::optional<std::size_t> cgroup_memory_limit(const std::string& root, const std::string& proc_cgroup) {
  std::ifstream in(proc_cgroup);
  std::optional<std::size_t> lowest;
  const auto take = [&](std::optional<std::size_t> v) {
    if (v) lowest = std::min(lowest.value_or(*v), *v);
  };
  for (std::string line; std::getline(in, line);) {
    // "0::/path" (v2) or "4:memory:/path" (v1); inside a container the path may not
    // exist under the mount, whose root is then the container's own group.
    const auto a = line.find(':');
    const auto b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.compare(0, a, "0") == 0 && controllers.empty()) {
      take(lowest_on_the_way_up(root, path, "memory.max"));
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      take(lowest_on_the_way_up(root + "/memory", path, "memory.limit_in_bytes"));
    }
  }
  return lowest;
}

std::size_t memory_available(std::string* what) {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  std::size_t limit = pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page)
                                            : ~std::size_t{0};
  if (what) *what = "physical memory";
  if (const auto cg = cgroup_memory_limit("/sys/fs/cgroup", "/proc/self/cgroup"); cg && *cg < limit) {
    limit = *cg;
    if (what) *what = "the cgroup's memory limit";
  }
  return limit;
}

double config::byte_burst() const {
  if (burst_bytes) return *burst_bytes;
  return std::max(rate_bytes / 10.0, static_cast<double>(max_line_bytes));
}

}  // namespace sluice
