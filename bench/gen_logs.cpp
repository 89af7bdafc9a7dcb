// gen_logs: deterministic NDJSON log generator for sluice benchmarks and tests.
//
//   gen_logs --bytes N [--seed S] [--error-ratio R]   about N bytes of whole lines (never more)
//   gen_logs --lines N [...]                          exactly N lines
//   gen_logs --forever [...]                          until the reader goes away
//
// N accepts K, M, G, T (and KiB, MiB, GiB, TiB), all powers of 1024. Every line is a valid
// JSON object of about 250 bytes: ts, level, service, msg, req{method,path,status},
// latency_ms, user_id, tags, and sometimes nested ctx / error / amount / job objects.
// The same seed gives the same bytes, and a shorter run is a prefix of a longer one.
// Output goes to stdout in large write(2) calls; EPIPE ends the program quietly with 0.
// Standalone: no dependencies beyond the C++20 standard library and POSIX.

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include <unistd.h>

namespace {

// ---------------------------------------------------------------- PRNG (xoshiro256**)

struct Rng {
  uint64_t s[4];
  explicit Rng(uint64_t seed) {
    for (auto& x : s) {  // splitmix64 seeding
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      x = z ^ (z >> 31);
    }
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t r = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
  }
  // uniform in [0, n) (Lemire's multiply-shift; the tiny bias does not matter here)
  uint32_t below(uint32_t n) {
    return static_cast<uint32_t>(((next() >> 32) * n) >> 32);
  }
  // 53-bit uniform in [0, 1)
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

// ---------------------------------------------------------------- vocabulary
// All strings below are already valid JSON string contents (escaped where needed).

constexpr std::string_view kServices[] = {"api", "auth", "billing", "worker", "gateway"};

constexpr std::string_view kPathsApi[] = {"/v1/orders", "/v1/orders/", "/v1/products",
                                          "/v1/cart", "/v1/search"};
constexpr std::string_view kPathsAuth[] = {"/login", "/logout", "/token/refresh",
                                           "/oauth/callback", "/mfa/verify"};
constexpr std::string_view kPathsBilling[] = {"/invoices", "/invoices/", "/payments", "/refunds",
                                              "/subscriptions/"};
constexpr std::string_view kPathsWorker[] = {"/jobs/", "/jobs", "/queues/email",
                                             "/queues/reports", "/jobs/"};
constexpr std::string_view kPathsGateway[] = {"/", "/health", "/static/app.js",
                                              "/api/v1/orders/", "/ws"};
constexpr const std::string_view* kPaths[] = {kPathsApi, kPathsAuth, kPathsBilling,
                                              kPathsWorker, kPathsGateway};

constexpr std::string_view kMsgDebug[] = {
    "cache lookup", "acquired db connection", "feature flag evaluated", "retrying request",
    "parsed config", "span started", "cache miss, loading from origin", "pool stats sampled"};
constexpr std::string_view kMsgInfo[] = {
    "request completed",
    "user logged in",
    "invoice generated",
    "job finished",
    "payment captured",
    "connection upgraded to websocket",
    "Café order placed ☕",
    "Benutzer angemeldet – Sitzung erneuert",
    "注文が完了しました",
    "job finished ✅",
    "envío confirmado para José",
    "request completed in \\\"fast path\\\""};
constexpr std::string_view kMsgWarn[] = {
    "slow query", "rate limit approaching", "retrying after timeout", "deprecated endpoint used",
    "certificate expires in 7 days", "Größe überschritten, Anfrage gekürzt",
    "queue depth above threshold"};
constexpr std::string_view kMsgError[] = {
    "upstream timeout",
    "payment declined",
    "database connection refused",
    "unhandled exception: KeyError 'user'",
    "token signature invalid",
    "échec de la connexion à la base",
    "処理に失敗しました 💥",
    "panic: runtime error: index out of range [3] with length 3\\n\\tgoroutine 1 [running]"};

constexpr std::string_view kMethods[] = {"GET", "GET", "GET", "POST", "POST", "PUT", "DELETE",
                                         "PATCH"};
constexpr std::string_view kTags[] = {"prod", "eu-west-1", "us-east-1", "canary", "k8s",
                                      "v2",   "beta",      "internal",  "cron",   "retry"};
constexpr std::string_view kCountries[] = {"DE", "FR", "US", "JP", "BR", "IN", "GB", "ES"};
constexpr std::string_view kErrKinds[] = {"Timeout", "IOError", "ValueError", "Declined"};
constexpr std::string_view kStack[] = {"\"main.go:42\"", "\"handler.go:118\"", "\"db.go:7\""};
constexpr std::string_view kCurrencies[] = {"EUR", "USD", "JPY"};
constexpr std::string_view kQueues[] = {"email", "reports"};

constexpr int kStatusOk[] = {200, 200, 200, 201, 204, 304};
constexpr int kStatusWarn[] = {200, 429, 404, 301, 200};
constexpr int kStatusErr[] = {500, 502, 503, 504, 402, 401};

template <typename T, size_t N>
constexpr uint32_t count(const T (&)[N]) {
  return static_cast<uint32_t>(N);
}

// ---------------------------------------------------------------- line builder

struct Out {
  char* p;
  void put(std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  void put(char c) { *p++ = c; }
  void num(uint64_t v) { p = std::to_chars(p, p + 24, v).ptr; }
  void num2(unsigned v) {  // two digits
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
    p += 2;
  }
  void num3(unsigned v) {
    p[0] = static_cast<char>('0' + v / 100);
    p[1] = static_cast<char>('0' + v / 10 % 10);
    p[2] = static_cast<char>('0' + v % 10);
    p += 3;
  }
  void hex(uint64_t v, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i) p[digits - 1 - i] = kHex[(v >> (4 * i)) & 15];
    p += digits;
  }
  void fixed2(uint64_t hundredths) {  // 1234 -> 12.34
    num(hundredths / 100);
    put('.');
    num2(static_cast<unsigned>(hundredths % 100));
  }
};

// days since 1970-01-01 -> y, m, d (Howard Hinnant's civil_from_days)
void civil(int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

class Generator {
 public:
  Generator(uint64_t seed, double error_ratio) : rng_(seed) {
    const double rest = 1.0 - error_ratio;
    // level mix of the non-error part: 20% debug, 13% warn, 67% info
    err_ = error_ratio;
    debug_ = err_ + rest * 0.20;
    warn_ = debug_ + rest * 0.13;
  }

  // Writes one line (with '\n') at p; returns the end. Never writes more than kMaxLine.
  static constexpr size_t kMaxLine = 1024;
  char* line(char* p) {
    Out o{p};
    Rng& r = rng_;

    ms_ += 1 + r.below(400);  // ~200 ms apart on average
    const double lv = r.unit();
    const int level = lv < err_ ? 3 : lv < debug_ ? 0 : lv < warn_ ? 2 : 1;  // debug info warn error
    const uint32_t svc = r.below(count(kServices));

    o.put(R"({"ts":")");
    timestamp(o);
    static constexpr std::string_view kLevels[] = {R"(","level":"debug)", R"(","level":"info)",
                                                   R"(","level":"warn)", R"(","level":"error)"};
    o.put(kLevels[level]);
    o.put(R"(","service":")");
    o.put(kServices[svc]);
    o.put(R"(","msg":")");
    switch (level) {
      case 0: o.put(kMsgDebug[r.below(count(kMsgDebug))]); break;
      case 1: o.put(kMsgInfo[r.below(count(kMsgInfo))]); break;
      case 2: o.put(kMsgWarn[r.below(count(kMsgWarn))]); break;
      default: o.put(kMsgError[r.below(count(kMsgError))]); break;
    }
    o.put(R"(","req":{"method":")");
    o.put(kMethods[r.below(count(kMethods))]);
    o.put(R"(","path":")");
    const std::string_view path = kPaths[svc][r.below(5)];
    o.put(path);
    if (path.back() == '/') o.num(1000 + r.below(99000));
    o.put(R"(","status":)");
    int status;
    if (level == 3) status = kStatusErr[r.below(count(kStatusErr))];
    else if (level == 2) status = kStatusWarn[r.below(count(kStatusWarn))];
    else status = kStatusOk[r.below(count(kStatusOk))];
    o.num(static_cast<uint64_t>(status));
    o.put(R"(},"latency_ms":)");
    {
      // roughly log-normal: 0.01 .. ~3000 ms, most in 5..100
      const uint64_t a = r.next();
      const unsigned scale = static_cast<unsigned>(a & 7);  // 0..7
      const uint64_t base = (a >> 8) % 2000;                // 0.00 .. 19.99
      uint64_t h = 1 + base * (scale < 3 ? 1 : scale < 6 ? 4 : scale < 7 ? 20 : 150);
      if ((a >> 40) & 1) o.fixed2(h);
      else o.num(h / 100 + 1);
    }
    o.put(R"(,"user_id":)");
    if (r.below(100) < 85) {
      o.put(R"("u_)");
      const unsigned u = 1 + r.below(50000);
      o.num2(u / 1000);
      o.num3(u % 1000);
      o.put('"');
    } else {
      o.put("null");
    }
    o.put(R"(,"tags":[)");
    {
      const uint32_t n = r.below(4);
      uint32_t t = r.below(count(kTags));
      static constexpr uint32_t kInc[] = {1, 3, 7, 9};  // coprime with 10: tags distinct
      const uint32_t inc = kInc[r.below(4)];
      for (uint32_t i = 0; i < n; ++i) {
        if (i) o.put(',');
        o.put('"');
        o.put(kTags[t]);
        o.put('"');
        t = (t + inc) % count(kTags);
      }
    }
    o.put(']');

    const uint32_t k = r.below(100);
    if (k < 25) {
      o.put(R"(,"ctx":{"client":{"ip":"10.)");
      const uint64_t ip = r.next();
      o.num(ip & 255);
      o.put('.');
      o.num((ip >> 8) & 255);
      o.put('.');
      o.num(1 + (ip >> 16) % 254);
      o.put(R"(","geo":{"country":")");
      o.put(kCountries[r.below(count(kCountries))]);
      o.put(R"(","city_id":)");
      o.num(1 + r.below(900));
      o.put(R"(}},"trace_id":")");
      o.hex(r.next(), 16);
      o.put(R"("})");
    } else if (k < 40) {
      o.put(R"(,"ctx":{"trace_id":")");
      o.hex(r.next(), 16);
      o.put(R"(","span_id":")");
      o.hex(r.next(), 8);
      o.put(R"("})");
    }
    if (level == 3 && r.below(10) < 6) {
      o.put(R"(,"error":{"kind":")");
      o.put(kErrKinds[r.below(count(kErrKinds))]);
      o.put(R"(","detail":{"code":)");
      o.num(1 + r.below(99));
      o.put(R"(,"retryable":)");
      o.put(r.below(2) ? "true" : "false");
      o.put(R"(,"stack":[)");
      const uint32_t n = 1 + r.below(3);
      for (uint32_t i = 0; i < n; ++i) {
        if (i) o.put(',');
        o.put(kStack[i]);
      }
      o.put("]}}");
    }
    if (svc == 2 && r.below(2)) {
      o.put(R"(,"amount":{"value":)");
      o.fixed2(100 + r.below(50000));
      o.put(R"(,"currency":")");
      o.put(kCurrencies[r.below(count(kCurrencies))]);
      o.put(R"("})");
    }
    if (svc == 3 && r.below(2)) {
      o.put(R"(,"job":{"id":)");
      o.num(1 + r.below(1000000));
      o.put(R"(,"attempt":)");
      o.num(1 + r.below(5));
      o.put(R"(,"queue":")");
      o.put(kQueues[r.below(2)]);
      o.put(R"("})");
    }
    if (r.below(10) == 0) o.put(r.below(2) ? R"(,"sampled":true)" : R"(,"sampled":false)");
    o.put("}\n");
    return o.p;
  }

 private:
  void timestamp(Out& o) {
    const uint64_t sec = ms_ / 1000;
    const int64_t day = static_cast<int64_t>(sec / 86400);
    if (day != cached_day_) {
      cached_day_ = day;
      int y;
      unsigned m, d;
      civil(day, y, m, d);
      Out c{date_};
      c.num(static_cast<uint64_t>(y));
      c.put('-');
      c.num2(m);
      c.put('-');
      c.num2(d);
      c.put('T');
      date_len_ = static_cast<size_t>(c.p - date_);
    }
    o.put(std::string_view(date_, date_len_));
    const unsigned sod = static_cast<unsigned>(sec % 86400);
    o.num2(sod / 3600);
    o.put(':');
    o.num2(sod / 60 % 60);
    o.put(':');
    o.num2(sod % 60);
    o.put('.');
    o.num3(static_cast<unsigned>(ms_ % 1000));
    o.put('Z');
  }

  Rng rng_;
  double err_, debug_, warn_;
  uint64_t ms_ = 1714521600000ULL;  // 2024-05-01T00:00:00Z
  int64_t cached_day_ = -1;
  char date_[32];
  size_t date_len_ = 0;
};

// ---------------------------------------------------------------- output

// Writes all of [p, p+n) to stdout. Returns false when the reader has gone away (EPIPE).
bool write_all(const char* p, size_t n) {
  while (n) {
    const ssize_t w = ::write(STDOUT_FILENO, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) return false;
      std::fprintf(stderr, "gen_logs: write: %s\n", std::strerror(errno));
      std::exit(1);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// ---------------------------------------------------------------- command line

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: gen_logs (--bytes N | --lines N | --forever) [--seed S] "
               "[--error-ratio R]\n"
               "  --bytes N        write whole lines, at most N bytes (K/M/G/T suffixes, "
               "powers of 1024)\n"
               "  --lines N        write exactly N lines (same suffixes)\n"
               "  --forever        write until stdout's reader goes away (then exit 0)\n"
               "  --seed S         PRNG seed (default 1); same seed, same bytes\n"
               "  --error-ratio R  fraction of level=error lines, 0..1 (default 0.1)\n");
  std::exit(code);
}

bool parse_size(std::string_view s, uint64_t& out) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr == s.data()) return false;
  std::string_view suf(ptr, static_cast<size_t>(s.data() + s.size() - ptr));
  unsigned shift = 0;
  if (!suf.empty()) {
    switch (suf[0]) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      case 't': case 'T': shift = 40; break;
      default: return false;
    }
    suf.remove_prefix(1);
    if (!(suf.empty() || suf == "B" || suf == "iB")) return false;
  }
  if (shift && v > (std::numeric_limits<uint64_t>::max() >> shift)) return false;
  out = v << shift;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t max_bytes = 0, max_lines = 0, seed = 1;
  bool have_bytes = false, have_lines = false, forever = false;
  double error_ratio = 0.1;

  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string_view val;
    bool has_val = false;
    if (const size_t eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string_view::npos) {
      val = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_val = true;
    }
    auto need = [&]() -> std::string_view {
      if (has_val) return val;
      if (i + 1 >= argc) {
        std::fprintf(stderr, "gen_logs: %.*s needs a value\n", static_cast<int>(a.size()),
                     a.data());
        usage(2);
      }
      return argv[++i];
    };
    auto bad = [&](std::string_view v) {
      std::fprintf(stderr, "gen_logs: bad value for %.*s: '%.*s'\n", static_cast<int>(a.size()),
                   a.data(), static_cast<int>(v.size()), v.data());
      std::exit(2);
    };
    if (a == "--bytes") {
      const auto v = need();
      if (!parse_size(v, max_bytes)) bad(v);
      have_bytes = true;
    } else if (a == "--lines") {
      const auto v = need();
      if (!parse_size(v, max_lines)) bad(v);
      have_lines = true;
    } else if (a == "--seed") {
      const auto v = need();
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), seed);
      if (ec != std::errc() || p != v.data() + v.size()) bad(v);
    } else if (a == "--error-ratio") {
      const auto v = need();
      char* end = nullptr;
      const std::string tmp(v);
      error_ratio = std::strtod(tmp.c_str(), &end);
      if (tmp.empty() || *end || !(error_ratio >= 0.0 && error_ratio <= 1.0)) bad(v);
    } else if (a == "--forever" && !has_val) {
      forever = true;
    } else if (a == "-h" || a == "--help") {
      usage(0);
    } else {
      std::fprintf(stderr, "gen_logs: unknown argument '%s'\n", argv[i]);
      usage(2);
    }
  }
  if (!have_bytes && !have_lines && !forever) usage(2);
  if (forever && (have_bytes || have_lines)) {
    std::fprintf(stderr, "gen_logs: --forever excludes --bytes and --lines\n");
    std::exit(2);
  }

  std::signal(SIGPIPE, SIG_IGN);  // EPIPE from write() instead; we exit 0 on it

  constexpr size_t kChunk = 1 << 20;  // 1 MiB per write(2)
  const std::unique_ptr<char[]> buf(new char[kChunk + Generator::kMaxLine]);
  Generator gen(seed, error_ratio);

  uint64_t bytes = 0, lines = 0;
  char* p = buf.get();
  for (;;) {
    if (have_lines && lines >= max_lines) break;
    char* e = gen.line(p);
    const size_t len = static_cast<size_t>(e - p);
    if (have_bytes && bytes + len > max_bytes) break;
    bytes += len;
    ++lines;
    p = e;
    if (static_cast<size_t>(p - buf.get()) >= kChunk) {
      if (!write_all(buf.get(), static_cast<size_t>(p - buf.get()))) return 0;
      p = buf.get();
    }
  }
  if (p != buf.get() && !write_all(buf.get(), static_cast<size_t>(p - buf.get()))) return 0;
  return 0;
}
