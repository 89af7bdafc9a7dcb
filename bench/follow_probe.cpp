// follow_probe: measures how long a line takes from being written to a followed file to
// coming out of `sluice -F`.
//   follow_probe write --path P --rate N --seconds S   append {"t":<ns>,"seq":i,...} lines
//   follow_probe read                                   read sluice's output on stdin; at
//                                                       its end print count, p50, p99, max
// Times are CLOCK_REALTIME nanoseconds, so writer and reader may be separate processes.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

int usage() {
  std::fprintf(stderr, "usage: follow_probe write --path P --rate N --seconds S | follow_probe read\n");
  return 2;
}

int write_lines(int argc, char** argv) {
  std::string path;
  double rate = 10000, seconds = 10;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--path") path = argv[i + 1];
    else if (a == "--rate") rate = std::atof(argv[i + 1]);
    else if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    else return usage();
  }
  if (path.empty() || rate <= 0) return usage();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return 1;
  const long long start = now_ns();
  const long long total = static_cast<long long>(rate * seconds);
  char line[256];
  for (long long i = 0; i < total; ++i) {
    const long long due = start + static_cast<long long>(static_cast<double>(i) * 1e9 / rate);
    while (now_ns() < due) std::this_thread::sleep_for(std::chrono::microseconds(50));
    const int n = std::snprintf(line, sizeof line, "{\"t\":%lld,\"seq\":%lld,\"msg\":\"latency probe\"}\n", now_ns(), i);
    if (::write(fd, line, static_cast<std::size_t>(n)) != n) return 1;
  }
  ::close(fd);
  return 0;
}

int read_lines() {
  std::vector<long long> lat;
  char* line = nullptr;
  std::size_t cap = 0;
  while (::getline(&line, &cap, stdin) > 0) {
    const long long now = now_ns();
    if (const char* t = std::strstr(line, "\"t\":")) lat.push_back(now - std::atoll(t + 4));
  }
  std::free(line);
  if (lat.empty()) {
    std::printf("count 0\n");
    return 1;
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat[static_cast<std::size_t>(p * static_cast<double>(lat.size() - 1))] / 1e6; };
  std::printf("count %zu p50_ms %.2f p99_ms %.2f max_ms %.2f\n", lat.size(), pct(0.5), pct(0.99), lat.back() / 1e6);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "write") == 0) return write_lines(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "read") == 0) return read_lines();
  return usage();
}
