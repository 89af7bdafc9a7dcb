// The reader's side of checkpoints (source/source.hpp): batches may finish in any order
// (--unordered, --on-full drop), but offsets are committed in sequence order, so a
// checkpoint never passes a batch still in flight.
#include "sluice/source/file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "sluice/batch.hpp"
#include "sluice/config.hpp"
#include "sluice/source/checkpoint.hpp"
#include "sluice/stats.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

struct finished_order : ::testing::Test {
  testing::temp_dir dir;
  config cfg;
  reader_stats stats;
  std::unique_ptr<checkpoint_store> store;
  std::unique_ptr<file_source> reader;
  input_source a{"a.log", "id-a"};
  input_source b{"b.log", "id-b"};
  input_source no_identity{"stdin", ""};
  std::vector<std::unique_ptr<batch>> batches;

  void SetUp() override {
    cfg.checkpoint = (dir.path() / "cp.json").string();
    reader.reset();
    store.reset();  // the old store holds the checkpoint's lock until destroyed
    store = std::make_unique<checkpoint_store>(cfg.checkpoint, false);
    reader = std::make_unique<file_source>(cfg, stats, store.get());
  }
  // The next batch in sequence: from `src`, ending at `end`, written or not.
  batch& add(const input_source& src, std::uint64_t end, bool delivered) {
    auto& x = *batches.emplace_back(std::make_unique<batch>(64));
    x.seq = batches.size() - 1;
    x.origin = &src;
    x.offset = end >= 10 ? end - 10 : 0;
    x.end_offset = end;
    x.delivered = delivered;
    return x;
  }
  std::optional<std::uint64_t> at(const input_source& src) const { return store->offset(src.identity); }
};

TEST_F(finished_order, LaterBatchesWaitForEarlierOnes) {
  add(a, 100, true);   // 0
  add(b, 50, true);    // 1
  add(a, 200, false);  // 2: dropped
  add(a, 300, true);   // 3
  reader->finished(*batches[3]);
  reader->finished(*batches[1]);
  reader->finished(*batches[2]);
  EXPECT_EQ(at(a), std::nullopt);  // batch 0 is still in flight: nothing moves
  EXPECT_EQ(at(b), std::nullopt);
  reader->finished(*batches[0]);
  EXPECT_EQ(at(a), 300u);  // past the dropped batch, once everything before 3 is done
  EXPECT_EQ(at(b), 50u);
}

TEST_F(finished_order, InOrderCommitsAtOnce) {
  add(a, 100, true);
  add(a, 200, false);  // dropped or filtered: the offset stays
  add(no_identity, 10, true);
  add(a, 300, true);
  reader->finished(*batches[0]);
  EXPECT_EQ(at(a), 100u);
  reader->finished(*batches[1]);
  EXPECT_EQ(at(a), 100u);
  reader->finished(*batches[2]);
  reader->finished(*batches[3]);
  EXPECT_EQ(at(a), 300u);
}

TEST_F(finished_order, PartlyWrittenBatchCommitsItsWrittenEvents) {
  auto& x = add(a, 100, false);
  x.offset = 40;
  x.event_ends = {20, 40, 60};
  x.events_written = 2;
  add(a, 200, false);
  reader->finished(*batches[1]);
  reader->finished(*batches[0]);
  EXPECT_EQ(at(a), 80u);  // 40 + the end of the second event
}

// Any finishing order: after each call the committed offset is that of the last
// delivered batch of the longest finished prefix, never beyond it.
TEST_F(finished_order, RandomOrdersNeverRunAhead) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    SetUp();
    batches.clear();
    for (int i = 0; i < 40; ++i) add(a, 100 * (i + 1), rng() % 4 != 0);
    std::vector<std::size_t> order(batches.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<bool> done(batches.size());
    for (const auto i : order) {
      reader->finished(*batches[i]);
      done[i] = true;
      std::optional<std::uint64_t> expected;
      for (std::size_t k = 0; k < done.size() && done[k]; ++k)
        if (batches[k]->delivered) expected = batches[k]->end_offset;
      ASSERT_EQ(at(a), expected) << "round " << round << " after batch " << i;
    }
  }
}

}  // namespace
}  // namespace sluice
