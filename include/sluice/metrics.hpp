// --metrics ADDR: Prometheus /metrics and /healthz, served by cpp-httplib on threads of
// its own. A scrape only reads the relaxed atomics the stages keep anyway, so the
// endpoint takes no lock the pipeline ever waits on.
//
// /healthz is 200 while events move or the pipeline is idle waiting for input, and 503
// with a one-line reason when batches are queued and the sink has made no progress for
// --stall-timeout seconds (default 30) while not waiting on the rate limit: a stalled
// output.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "sluice/stats.hpp"

namespace sluice {

struct listen_address {
  std::string host;
  int port = 0;  // 0: any free port (the server says which)
};

// "9464" (loopback), "127.0.0.1:9464", "0.0.0.0:9464", "[::1]:9464", "localhost:9464".
// A bare port binds 127.0.0.1, never all interfaces. Throws usage_error.
listen_address parse_listen_address(std::string_view text);

struct health {
  bool ok = true;
  std::string reason;  // one line, for a 503
};
health check_health(const pipeline_stats& stats, double stall_timeout_s, std::int64_t now);

class metrics_server {
 public:
  // Binds at once (throws startup_error when it cannot) and serves on its own thread.
  metrics_server(const pipeline_stats& stats, const listen_address& addr, double stall_timeout_s);
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  int port() const { return port_; }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  int port_ = 0;
};

}  // namespace sluice
