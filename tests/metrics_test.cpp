// The --metrics server's life (metrics.hpp): a client that sends a request's header
// lines one at a time, never ending it, held a worker forever, and the server's shutdown
// (which joined every worker) with it.
#include "sluice/metrics.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "sluice/stats.hpp"

namespace sluice {
namespace {

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

bool send_all(int fd, const std::string& s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

// A whole request on its own connection: the status line of the answer.
std::string get(int port, const std::string& path) {
  const int fd = connect_to(port);
  if (fd < 0) return "no connection";
  timeval tv{30, 0};  // a deadline for a broken server, not a timing claim
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  send_all(fd, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return got.substr(0, got.find("\r\n"));
}

TEST(MetricsServer, ShutdownIsNotHeldBySlowHeaderClients) {
  pipeline_stats stats;
  auto server = std::make_unique<metrics_server>(stats, listen_address{"127.0.0.1", 0}, 30.0);
  const int port = server->port();
  ASSERT_GT(port, 0);

  // Three clients, each sending a header line every 50 ms until told to stop.
  std::atomic<bool> stop{false};
  std::atomic<int> connected{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([&] {
      const int fd = connect_to(port);
      if (fd < 0) return;
      send_all(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      connected.fetch_add(1);
      while (!stop.load() && send_all(fd, "X-Slow: 1\r\n")) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      ::close(fd);
    });
  }
  while (connected.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // Held, yet a probe is answered.
  EXPECT_EQ(get(port, "/healthz"), "HTTP/1.1 200 OK");

  // The destructor returns while they still send (on a thread of its own: if it hung,
  // the test fails at the deadline instead of hanging).
  struct done_flag {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
  };
  auto done = std::make_shared<done_flag>();
  std::thread([done, s = server.release()] {
    delete s;
    std::lock_guard lock(done->m);
    done->done = true;
    done->cv.notify_all();
  }).detach();
  bool returned = false;
  {
    std::unique_lock lock(done->m);
    returned = done->cv.wait_for(lock, std::chrono::seconds(60), [&] { return done->done; });
  }
  EXPECT_TRUE(returned) << "~metrics_server waited for the slow clients";
  stop.store(true);
  for (auto& t : clients) t.join();
}

}  // namespace
}  // namespace sluice
