// Micro-benchmarks of the per-batch hot paths: framing bytes into batches, and parsing +
// validating a batch. Run: build/bench/micro_bench (figures are bytes/s per core).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "sluice/framing.hpp"
#include "sluice/parse.hpp"
#include "sluice/rate.hpp"
#include "sluice/transform.hpp"

namespace {

// About 1 MiB of log lines shaped like bench/gen_logs output.
std::string corpus() {
  std::mt19937 rng(1);
  const char* levels[] = {"debug", "info", "info", "info", "warn", "error"};
  const char* services[] = {"api", "auth", "billing", "worker", "gateway"};
  std::string s;
  while (s.size() < (std::size_t{1} << 20)) {
    s += R"({"ts":"2026-11-25T12:00:00.)" + std::to_string(rng() % 1000) + R"(Z","level":")" +
         levels[rng() % 6] + R"(","service":")" + services[rng() % 5] +
         R"(","msg":"request handled","req":{"method":"GET","path":"/v1/items/)" + std::to_string(rng() % 10000) +
         R"(","status":200},"latency_ms":)" + std::to_string(rng() % 900) + R"(,"tags":["a","b"]})" + "\n";
  }
  return s;
}

class memory_stream final : public sluice::byte_stream {
 public:
  explicit memory_stream(const std::string& s) : s_(s) {}
  long read(char* dst, std::size_t n) override {
    n = std::min(n, s_.size() - pos_);
    std::memcpy(dst, s_.data() + pos_, n);
    pos_ += n;
    return static_cast<long>(n);
  }

 private:
  const std::string& s_;
  std::size_t pos_ = 0;
};

void framing(benchmark::State& state) {
  const std::string input = corpus();
  sluice::batch b(256 << 10);
  for (auto _ : state) {
    memory_stream in(input);
    sluice::line_framer f(256 << 10, 1 << 20);
    f.start_input();
    while (f.fill(in, b) == sluice::line_framer::status::more) benchmark::DoNotOptimize(b.size);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
}
BENCHMARK(framing);

void parse_batch(benchmark::State& state) {
  const std::string input = corpus();
  sluice::config cfg;
  const std::size_t cut = input.rfind('\n', 256 << 10) + 1;
  sluice::batch b(256 << 10);
  std::memcpy(b.data(), input.data(), cut);
  b.size = cut;
  sluice::transform tr(cfg);
  sluice::dead_letter_writer dl(sluice::dead_letter_format::raw, false);
  b.source_name = "bench";
  // Arg 0: the default (the batch as one document stream); arg 1: one parse per line.
  sluice::batch_parser parser(cfg, tr, dl,
                              state.range(0) == 0 ? sluice::batch_parser::default_stream_min_bytes : SIZE_MAX);
  for (auto _ : state) {
    parser.parse(b);
    benchmark::DoNotOptimize(b.counts.events);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * cut));
}
BENCHMARK(parse_batch)->Arg(0)->Arg(1);

void token_bucket_take(benchmark::State& state) {
  sluice::token_bucket bucket(1e9, 1e6, 0);
  std::int64_t now = 0;
  for (auto _ : state) benchmark::DoNotOptimize(bucket.try_take(1, now += 1));
}
BENCHMARK(token_bucket_take);

}  // namespace

BENCHMARK_MAIN();
