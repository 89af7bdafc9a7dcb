// The source interface (DESIGN.md §8) with a source that is not a file: it emits from a
// thread of its own, has positions of its own type (partition, offset), and is told
// that its batches are finished with from another thread, out of order (a sink that
// acknowledges late). Its per-partition watermark must never pass a batch still in flight.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sluice/app.hpp"
#include "sluice/source/source.hpp"
#include "support/async_sink.hpp"

namespace sluice {
namespace {

struct partition_position {
  int partition = 0;
  std::uint64_t offset = 0;  // the next message to read
};

class partitioned_source final : public source {
 public:
  static constexpr int partitions = 3;
  static constexpr std::uint64_t per_batch = 20;

  partitioned_source(const config& cfg, reader_stats& stats, std::uint64_t batches)
      : source(cfg, stats, nullptr), batches_(batches) {
    for (int p = 0; p < partitions; ++p) origins_[p] = &add_source("p" + std::to_string(p), "");
  }
  std::string_view type() const override { return "partitioned"; }

  void run(emitter& h) override {
    // A thread of its own, as a client library's consumer thread would be.
    std::thread producer([&] {
      std::array<std::uint64_t, partitions> next{};
      for (std::uint64_t i = 0; i < batches_; ++i) {
        const int p = static_cast<int>((i * 7) % partitions);
        batch* b = h.acquire();
        if (b == nullptr) return;
        std::string text;
        for (std::uint64_t o = next[p]; o < next[p] + per_batch; ++o)
          text += R"({"p":)" + std::to_string(p) + R"(,"o":)" + std::to_string(o) + "}\n";
        std::copy(text.begin(), text.end(), b->data());
        b->size = text.size();
        b->origin = origins_[p];
        b->source_name = origins_[p]->name;
        b->offset = next[p];
        b->end_offset = next[p] + per_batch;
        next[p] += per_batch;
        {
          std::lock_guard lock(mutex_);
          in_flight_[p].insert(b->offset);
          emitted_[p] = next[p];
        }
        h.emit(b);
      }
    });
    producer.join();
  }

  // Any thread, any order: the watermark of a partition moves only over batches that
  // are all finished with.
  void finished(const batch& b) override {
    std::lock_guard lock(mutex_);
    const int p = partition_of(b);
    ++finished_calls_;
    if (b.seq < last_seq_finished_) ++out_of_order_;
    last_seq_finished_ = b.seq;
    if (!seen_seq_.insert(b.seq).second) ++finished_twice_;
    in_flight_[p].erase(b.offset);
    done_[p][b.offset] = b.end_offset;
    for (auto it = done_[p].begin(); it != done_[p].end() && it->first == watermark_[p].offset;
         it = done_[p].erase(it))
      watermark_[p].offset = it->second;
    // Never past a batch still in flight.
    if (!in_flight_[p].empty() && watermark_[p].offset > *in_flight_[p].begin()) ++watermark_passed_in_flight_;
  }

  int partition_of(const batch& b) const {
    for (int p = 0; p < partitions; ++p)
      if (b.origin == origins_[p]) return p;
    ADD_FAILURE() << "a batch that did not come from this source";
    return 0;
  }

  mutable std::mutex mutex_;
  std::uint64_t finished_calls_ = 0, out_of_order_ = 0, finished_twice_ = 0, watermark_passed_in_flight_ = 0;
  std::array<partition_position, partitions> watermark_{{{0, 0}, {1, 0}, {2, 0}}};
  std::array<std::uint64_t, partitions> emitted_{};

 private:
  std::uint64_t batches_;
  std::array<const input_source*, partitions> origins_{};
  std::array<std::set<std::uint64_t>, partitions> in_flight_;
  std::array<std::map<std::uint64_t, std::uint64_t>, partitions> done_;
  std::set<std::uint64_t> seen_seq_;
  std::uint64_t last_seq_finished_ = 0;
};

TEST(source_interface, a_source_with_its_own_positions_gets_every_batch_finished_once_out_of_order) {
  config cfg;
  cfg.parse_threads = 2;
  cfg.sink_tokens = 6;
  partitioned_source* view = nullptr;
  auto build = [&view](const config& c, reader_stats& stats) {
    auto src = std::make_unique<partitioned_source>(c, stats, 300);
    view = src.get();
    return src;
  };
  auto out = std::make_unique<testing::async_sink>(11);
  auto* sink_view = out.get();
  app a(cfg, app_overrides{std::move(out), nullptr, {}, build});
  const auto r = a.run();
  EXPECT_EQ(r.code, exit_code::ok) << r.message;

  std::lock_guard lock(view->mutex_);
  EXPECT_EQ(view->finished_calls_, 300u);
  EXPECT_EQ(view->finished_twice_, 0u);
  EXPECT_GT(view->out_of_order_, 0u) << "the sink acknowledged in order: the test proves nothing";
  EXPECT_EQ(view->watermark_passed_in_flight_, 0u);
  for (int p = 0; p < partitioned_source::partitions; ++p)
    EXPECT_EQ(view->watermark_[p].offset, view->emitted_[p]) << "partition " << p;
  EXPECT_EQ(sink_view->acknowledged_lines().size(), 300 * partitioned_source::per_batch);
  EXPECT_EQ(a.stats().reader.component.type, "partitioned");
  EXPECT_EQ(a.stats().reader.batches_out.load(), 300u);
}

}  // namespace
}  // namespace sluice
