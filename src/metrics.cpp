#include "sluice/metrics.hpp"

#include <charconv>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "sluice/errors.hpp"

namespace sluice {

listen_address parse_listen_address(std::string_view text) {
  listen_address a;
  std::string_view port = text;
  if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    a.host.assign(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
    if (a.host.empty()) throw usage_error(fmt::format("--metrics: missing host before ':' in '{}'", text));
  } else {
    a.host = "127.0.0.1";  // a bare port never binds all interfaces
  }
  const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc() || p != port.data() + port.size() || a.port < 0 || a.port > 65535)
    throw usage_error(fmt::format("--metrics: expected PORT or HOST:PORT, got '{}'", text));
  return a;
}

health check_health(const pipeline_stats& s, double stall_timeout_s, std::int64_t now) {
  const auto queued = s.sink.tokens.in_use.load(std::memory_order_relaxed) +
                      s.parse.tokens.in_use.load(std::memory_order_relaxed);
  if (queued == 0 || s.sink.rate_wait.waiting()) return {};
  const auto last = s.sink.last_progress_ns.load(std::memory_order_relaxed);
  const double idle_s = static_cast<double>(now - last) / 1e9;
  if (last == 0 || idle_s < stall_timeout_s) return {};
  return {false, fmt::format("sink stalled: no progress for {:.0f} s with {} batches queued", idle_s, queued)};
}

struct metrics_server::impl {
  httplib::Server server;
  std::thread thread;
};

metrics_server::metrics_server(const pipeline_stats& stats, const listen_address& addr, double stall_timeout_s)
    : impl_(std::make_unique<impl>()) {
  auto& srv = impl_->server;
  // httplib's default adds SO_REUSEPORT, which would let a second sluice bind the same
  // port and answer half the scrapes: keep only SO_REUSEADDR (restart after TIME_WAIT).
  srv.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  srv.Get("/metrics", [&stats](const httplib::Request&, httplib::Response& res) {
    res.set_content(stats.to_prometheus(), "text/plain; version=0.0.4; charset=utf-8");
  });
  srv.Get("/healthz", [&stats, stall_timeout_s](const httplib::Request&, httplib::Response& res) {
    const auto h = check_health(stats, stall_timeout_s, now_ns());
    res.status = h.ok ? 200 : 503;
    res.set_content(h.ok ? "ok\n" : h.reason + "\n", "text/plain; charset=utf-8");
  });
  if (addr.port == 0) {
    port_ = srv.bind_to_any_port(addr.host);
  } else {
    port_ = srv.bind_to_port(addr.host, addr.port) ? addr.port : -1;
  }
  if (port_ <= 0)
    throw startup_error(fmt::format("--metrics: cannot listen on {}:{} (in use, or not an address of this host)",
                                    addr.host, addr.port));
  spdlog::info("metrics at http://{}:{}/metrics", addr.host.find(':') != std::string::npos
                                                       ? "[" + addr.host + "]" : addr.host, port_);
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
}

metrics_server::~metrics_server() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace sluice
