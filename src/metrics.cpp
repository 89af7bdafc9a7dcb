#include "sluice/metrics.hpp"

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

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

namespace {

// Locked by every worker as it ends and, once a server was left to the exit, by an
// atexit handler: the exit's destructors (httplib's statics, which a worker may have
// initialised) then come after what a detached worker did, for TSan as in fact.
std::mutex& exit_fence() {
  static auto* m = new std::mutex;
  return *m;
}

// cpp-httplib serves a connection on one worker until it closes or times out, and its
// default pool has max(8, cores - 1) workers: 8 idle or slow clients held all of them and
// /healthz waited behind them (a liveness probe would restart a healthy process). This
// pool starts a worker whenever a connection finds none free, up to max_workers, so that
// many connections can be held while a probe still finds a free worker; idle workers end
// after a while. Workers are detached and share `state` with the pool, so one still held
// by a slow client at shutdown outlives the pool safely (the server then is leaked, see
// ~metrics_server).
class on_demand_pool : public httplib::TaskQueue {
 public:
  static constexpr std::size_t max_workers = 512;
  static constexpr auto idle_exit = std::chrono::seconds(10);

  // `stragglers` is told, at shutdown, how many workers a client still held.
  on_demand_pool(std::chrono::milliseconds grace, std::size_t& stragglers)
      : state_(std::make_shared<state>()), grace_(grace), stragglers_(stragglers) {}
  ~on_demand_pool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::lock_guard lock(state_->mutex);
    state_->queue.push_back(std::move(fn));
    if (state_->queue.size() > state_->idle && state_->workers < max_workers) {
      ++state_->workers;
      std::thread([s = state_] { work(*s); }).detach();
    } else {
      state_->cv.notify_one();
    }
  }

  // Waits up to `grace` for the workers (every connection was told to stop by the
  // server's stop(); a client sending a header line a second is never timed out).
  void shutdown() override {
    std::unique_lock lock(state_->mutex);
    if (state_->stopping) return;
    state_->stopping = true;
    state_->cv.notify_all();
    state_->done.wait_for(lock, grace_, [&] { return state_->workers == 0; });
    stragglers_ = state_->workers;
  }

 private:
  struct state {
    mutable std::mutex mutex;
    std::condition_variable cv;
    std::condition_variable done;
    std::deque<std::function<void()>> queue;
    std::size_t workers = 0;
    std::size_t idle = 0;
    bool stopping = false;
  };

  static void work(state& s) {
    std::unique_lock lock(s.mutex);
    for (;;) {
      ++s.idle;
      const bool woken = s.cv.wait_for(lock, idle_exit, [&] { return s.stopping || !s.queue.empty(); });
      --s.idle;
      if (s.queue.empty() && (s.stopping || !woken)) break;
      if (s.queue.empty()) continue;
      auto fn = std::move(s.queue.front());
      s.queue.pop_front();
      lock.unlock();
      fn();  // serves one connection, and closes it
      fn = nullptr;
      lock.lock();
    }
    if (--s.workers == 0) s.done.notify_all();
    lock.unlock();
    std::lock_guard fence(exit_fence());
  }

  std::shared_ptr<state> state_;
  std::chrono::milliseconds grace_;
  std::size_t& stragglers_;
};

// What a shutdown leaves to the exit stays reachable here, so it is kept on purpose
// (LeakSanitizer agrees), never freed under a worker still using it.
void keep_until_exit(void* p) {
  static auto* kept = new std::vector<void*>;
  static const bool fenced = std::atexit([] { std::lock_guard fence(exit_fence()); }) == 0;
  (void)fenced;
  std::lock_guard lock(exit_fence());
  kept->push_back(p);
}

// Timeouts (seconds): a connection that sends nothing is closed after keep_alive_s, one
// stuck mid-request after read_s without a byte.
constexpr int keep_alive_s = 2;
constexpr int read_s = 2;
constexpr int write_s = 2;

}  // namespace

struct metrics_server::impl {
  httplib::Server server;
  std::thread thread;
  // The handlers read the pipeline's stats only between enter() and leave(), and not at
  // all once closing: a worker a slow client held past shutdown never reads freed stats.
  std::mutex mutex;
  std::condition_variable idle;
  int active = 0;
  bool closing = false;
  std::size_t stragglers = 0;  // set by the pool's shutdown, before listen returns
  socket_t listening = INVALID_SOCKET;

  bool enter() {
    std::lock_guard lock(mutex);
    if (closing) return false;
    ++active;
    return true;
  }
  void leave() {
    std::lock_guard lock(mutex);
    if (--active == 0) idle.notify_all();
  }
  void close() {
    std::unique_lock lock(mutex);
    closing = true;
    idle.wait(lock, [&] { return active == 0; });
  }
  // enter() for a handler's scope; leave() also when the handler throws (httplib makes
  // that a 500), so close() never waits for a handler that is gone.
  class use {
   public:
    explicit use(impl& i) : i_(i), entered_(i.enter()) {}
    ~use() {
      if (entered_) i_.leave();
    }
    use(const use&) = delete;
    use& operator=(const use&) = delete;
    explicit operator bool() const { return entered_; }

   private:
    impl& i_;
    bool entered_;
  };
};

metrics_server::metrics_server(const pipeline_stats& stats, const listen_address& addr, double stall_timeout_s)
    : impl_(std::make_unique<impl>()) {
  auto& srv = impl_->server;
  // httplib's default adds SO_REUSEPORT, which would let a second sluice bind the same
  // port and answer half the scrapes: keep only SO_REUSEADDR (restart after TIME_WAIT).
  impl* im = impl_.get();
  srv.set_socket_options([im](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    im->listening = sock;
  });
  srv.set_keep_alive_timeout(keep_alive_s);
  srv.set_read_timeout(read_s, 0);
  srv.set_write_timeout(write_s, 0);
  srv.set_payload_max_length(64 << 10);  // GET only: a large body is no scrape
  srv.new_task_queue = [im] { return new on_demand_pool(std::chrono::seconds(keep_alive_s + read_s + 1), im->stragglers); };
  srv.Get("/metrics", [im, &stats](const httplib::Request&, httplib::Response& res) {
    const impl::use in_use(*im);
    if (!in_use) {
      res.status = 503;
      return;
    }
    res.set_content(stats.to_prometheus(), "text/plain; version=0.0.4; charset=utf-8");
  });
  srv.Get("/healthz", [im, &stats, stall_timeout_s](const httplib::Request&, httplib::Response& res) {
    const impl::use in_use(*im);
    if (!in_use) {
      res.status = 503;
      res.set_content("stopping\n", "text/plain; charset=utf-8");
      return;
    }
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
  // httplib listens with a backlog of 5: a burst of connections overflowed it and a probe
  // then waited a SYN retry (1 s, then 3 s). listen() again only raises the backlog.
  if (im->listening != INVALID_SOCKET) ::listen(im->listening, SOMAXCONN);
  spdlog::info("metrics at http://{}:{}/metrics", addr.host.find(':') != std::string::npos
                                                       ? "[" + addr.host + "]" : addr.host, port_);
  impl_->thread = std::thread([im] { im->server.listen_after_bind(); });
}

metrics_server::~metrics_server() {
  impl_->close();  // no handler reads the stats from now on
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  if (impl_->stragglers > 0) {
    // A client still holds a worker inside the server: leave the server to it (the
    // process is ending) rather than free what that worker uses.
    spdlog::warn("metrics: {} connection(s) still open at shutdown, left to the exit", impl_->stragglers);
    keep_until_exit(impl_.release());
  }
}

}  // namespace sluice
