// The follow reader's decisions (DESIGN.md §6), on a real follow_source driven on a
// thread of its own with a recording emitter, over temp dirs changed from the test
// thread: where reading starts, rotation (rename + create, copytruncate, delete), the
// unterminated last line, checkpoint resume, inputs it refuses, --max-open-files.
// Every wait polls for a condition with a generous deadline; every check is of the
// exact lines delivered (each exactly once), their origin and offsets.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sluice/config.hpp"
#include "sluice/source/checkpoint.hpp"
#include "sluice/source/follow.hpp"
#include "sluice/stats.hpp"
#include "support/recording_emitter.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using testing::emitted_line;
using testing::recording_emitter;
using lines_t = std::vector<emitted_line>;
using strings = std::vector<std::string>;

void append(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
}

// A file's checkpoint identity (a fingerprint of its first line), as the source sees it.
std::string identity_of(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  const auto id = file_identity(fd);
  ::close(fd);
  return id.value_or(std::string());
}

// The texts delivered from one content (identity), in the order delivered.
strings texts_of(const lines_t& lines, const std::string& identity) {
  strings out;
  for (const auto& l : lines)
    if (l.identity == identity) out.push_back(l.text);
  return out;
}
strings all_texts(const lines_t& lines) {
  strings out;
  for (const auto& l : lines) out.push_back(l.text);
  return out;
}
bool has(const lines_t& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(), [&](const auto& l) { return l.text == text; });
}
auto has_all(strings want) {
  return [want = std::move(want)](const lines_t& lines) {
    return std::all_of(want.begin(), want.end(), [&](const auto& w) { return has(lines, w); });
  };
}
strings sorted(strings s) {
  std::sort(s.begin(), s.end());
  return s;
}

// Descriptors this process holds open on files under `dir` (the source's followed files).
std::size_t open_under(const fs::path& dir, bool deleted_only = false) {
  const std::string prefix = fs::canonical(dir).string() + "/";
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/self/fd", ec)) {
    std::error_code rec;
    const auto target = fs::read_symlink(e.path(), rec).string();
    if (rec || target.rfind(prefix, 0) != 0) continue;
    const bool deleted = target.size() > 10 && target.compare(target.size() - 10, 10, " (deleted)") == 0;
    if (!deleted_only || deleted) ++n;
  }
  return n;
}

template <class Pred>
bool poll_until(Pred pred, std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

config follow_config(strings inputs, unsigned poll_ms = 0) {
  config cfg;
  cfg.follow = true;
  cfg.inputs = std::move(inputs);
  cfg.poll_ms = poll_ms;
  cfg.batch_bytes = 4096;
  cfg.output = "";  // the tests that care name one
  return cfg;
}

// A follow_source running on a thread of its own, with a recording emitter.
class follower {
 public:
  explicit follower(config cfg, checkpoint_store* checkpoints = nullptr, std::size_t slots = 4)
      : cfg_(std::move(cfg)),
        src_(std::make_unique<follow_source>(cfg_, stats_, checkpoints)),
        em_(*src_, cfg_.batch_bytes, slots) {}
  ~follower() { stop(); }
  void start() {
    thread_ = std::thread([this] { src_->run(em_); });
  }
  // Stops the source and waits for its thread; nothing is left waiting on the test.
  void stop() {
    if (!thread_.joinable()) return;
    src_->stop();
    em_.release_all();
    thread_.join();
  }
  recording_emitter& em() { return em_; }
  follow_source& src() { return *src_; }
  bool wait_for(const std::function<bool(const lines_t&)>& pred) { return em_.wait_for(pred); }
  lines_t lines() const { return em_.lines(); }
  // Closes the gate and waits until the source is waiting for a batch: then it reads
  // nothing, and decides nothing about the files it has looked at, until open_gate.
  void block_when_reading(const std::function<void()>& make_it_read) {
    em_.close_gate();
    const auto before = em_.refusals();
    make_it_read();
    ASSERT_TRUE(poll_until([&] { return em_.refusals() > before; })) << "the source never asked for a batch";
  }

 private:
  config cfg_;
  reader_stats stats_;
  std::unique_ptr<follow_source> src_;
  recording_emitter em_;
  std::thread thread_;
};

// Files present at the first start begin at their end, so a line appended to one is
// delivered only if the first scan was over before it was written: lines are appended
// to `sync_path` (present at start, followed) until one is delivered. After that, a file
// that appears is one found later.
void wait_first_scan(follower& f, const std::string& sync_path) {
  for (int i = 0; i < 100; ++i) {
    const auto line = "sync" + std::to_string(i);
    append(sync_path, line + "\n");
    if (f.em().wait_for(has_all({line}), std::chrono::milliseconds(200))) return;
  }
  FAIL() << "no line appended to " << sync_path << " was delivered";
}
strings without_sync(const lines_t& lines) {
  strings out;
  for (const auto& l : lines)
    if (l.text.rfind("sync", 0) != 0) out.push_back(l.text);
  return out;
}

// Where reading starts --------------------------------------------------------------

TEST(follow_source, files_present_at_start_are_read_from_their_end_and_a_line_being_written_whole) {
  testing::temp_dir d;
  const auto a = d.file("a.log", "old1\nold2\npar");
  const auto sync = d.file("sync.log", "present\n");
  const auto later = (d.path() / "later.log").string();
  follower f(follow_config({(d.path() / "*.log").string()}));
  f.start();
  ASSERT_NO_FATAL_FAILURE(wait_first_scan(f, sync));
  // A file that appears once following has begun is read from 0.
  append(later, "l1\nl2\n");
  ASSERT_TRUE(f.wait_for(has_all({"l1", "l2"})));
  append(a, "tial\nnew1\n");
  ASSERT_TRUE(f.wait_for(has_all({"partial", "new1"})));
  f.stop();
  const auto lines = f.lines();
  EXPECT_EQ(texts_of(lines, identity_of(a)), (strings{"partial", "new1"}));
  EXPECT_EQ(texts_of(lines, identity_of(later)), (strings{"l1", "l2"}));
  EXPECT_EQ(sorted(without_sync(lines)), sorted({"l1", "l2", "new1", "partial"}));
  EXPECT_FALSE(has(lines, "present"));
  for (const auto& l : lines) {
    EXPECT_TRUE(l.terminated) << l.text;
    if (l.text == "partial") {
      EXPECT_EQ(l.offset, 10u);  // just past "old1\nold2\n": where the line being written began
      EXPECT_EQ(l.name, a);
    }
    if (l.text == "l1") EXPECT_EQ(l.offset, 0u);
  }
}

TEST(follow_source, from_start_reads_files_present_at_start_from_0) {
  testing::temp_dir d;
  const auto a = d.file("a.log", "old1\nold2\n");
  auto cfg = follow_config({a}, 20);
  cfg.from_start = true;
  follower f(cfg);
  f.start();
  ASSERT_TRUE(f.wait_for(has_all({"old1", "old2"})));
  append(a, "new1\n");
  ASSERT_TRUE(f.wait_for(has_all({"new1"})));
  f.stop();
  const auto lines = f.lines();
  EXPECT_EQ(all_texts(lines), (strings{"old1", "old2", "new1"}));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].offset, 0u);
  EXPECT_EQ(lines[1].offset, 5u);
  EXPECT_EQ(lines[2].offset, 10u);
  for (const auto& l : lines) EXPECT_EQ(l.identity, identity_of(a));
}

TEST(follow_source, a_file_created_later_is_read_from_0_polling) {
  testing::temp_dir d;
  const auto b = (d.path() / "b.log").string();
  const auto sync = d.file("sync.log", "present\n");
  follower f(follow_config({b, sync}, 20));  // b.log: a plain path that does not exist yet
  f.start();
  ASSERT_NO_FATAL_FAILURE(wait_first_scan(f, sync));
  append(b, "b1\nb2\nb3\n");
  ASSERT_TRUE(f.wait_for(has_all({"b1", "b2", "b3"})));
  append(b, "b4\n");
  ASSERT_TRUE(f.wait_for(has_all({"b4"})));
  f.stop();
  const auto lines = f.lines();
  EXPECT_EQ(without_sync(lines), (strings{"b1", "b2", "b3", "b4"}));
  EXPECT_EQ(texts_of(lines, identity_of(b)), (strings{"b1", "b2", "b3", "b4"}));
  for (const auto& l : lines)
    if (l.text == "b1") EXPECT_EQ(l.offset, 0u);
  EXPECT_EQ(f.src().failed_inputs(), 0u);
}

// Rotation -----------------------------------------------------------------------------

TEST(follow_source, rename_and_create_delivers_every_line_once_in_order_with_the_writer_still_appending) {
  testing::temp_dir d;
  const auto app = d.file("app.log", "a1\na2\n");
  const auto old = (d.path() / "app.log.1").string();
  auto cfg = follow_config({app});  // the plain path: the renamed file no longer matches
  cfg.from_start = true;
  follower f(cfg);
  f.start();
  ASSERT_TRUE(f.wait_for(has_all({"a1", "a2"})));
  const auto id_a = identity_of(app);
  // The writer keeps its descriptor across the rename (a slow writer).
  const int writer = ::open(app.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(writer, 0);
  // While the source waits for a batch (to read a3), the file is renamed, the writer
  // appends a4 to it under its new name, and a new app.log appears.
  f.block_when_reading([&] { ASSERT_EQ(::write(writer, "a3\n", 3), 3); });
  ASSERT_EQ(::rename(app.c_str(), old.c_str()), 0);
  ASSERT_EQ(::write(writer, "a4\n", 3), 3);
  ::close(writer);
  append(app, "b1\nb2\n");
  f.em().open_gate();
  ASSERT_TRUE(f.wait_for(has_all({"a3", "a4", "b1", "b2"})));
  append(app, "b3\n");
  ASSERT_TRUE(f.wait_for(has_all({"b3"})));
  f.stop();
  const auto lines = f.lines();
  const auto id_b = identity_of(app);
  ASSERT_NE(id_a, id_b);
  EXPECT_EQ(texts_of(lines, id_a), (strings{"a1", "a2", "a3", "a4"}));
  EXPECT_EQ(texts_of(lines, id_b), (strings{"b1", "b2", "b3"}));
  EXPECT_EQ(lines.size(), 7u);
  for (const auto& l : lines)
    if (l.text == "b1") EXPECT_EQ(l.offset, 0u);  // the new file: a new content, from 0
}

TEST(follow_source, copytruncate_delivers_every_line_once_the_copy_supplying_the_unread_ones) {
  testing::temp_dir d;
  const auto app = d.file("app.log", "a1\na2\n");
  auto cfg = follow_config({(d.path() / "app.log*").string()}, 20);
  cfg.from_start = true;
  follower f(cfg);
  f.start();
  ASSERT_TRUE(f.wait_for(has_all({"a1", "a2"})));
  const auto id_a = identity_of(app);
  // The copy holds a3 and a4, which app.log never showed the source: it is the only
  // place they can come from. It appears at once, whole (renamed from a name no
  // pattern matches), then app.log is truncated and rewritten.
  d.file("copy.tmp", "a1\na2\na3\na4\n");
  ASSERT_EQ(::rename((d.path() / "copy.tmp").c_str(), (d.path() / "app.log.1").c_str()), 0);
  ASSERT_EQ(::truncate(app.c_str(), 0), 0);
  append(app, "b1\nb2\n");
  ASSERT_TRUE(f.wait_for(has_all({"a3", "a4", "b1", "b2"})));
  append(app, "b3\n");
  ASSERT_TRUE(f.wait_for(has_all({"b3"})));
  f.stop();
  const auto lines = f.lines();
  const auto id_b = identity_of(app);
  EXPECT_EQ(texts_of(lines, id_a), (strings{"a1", "a2", "a3", "a4"}));
  EXPECT_EQ(texts_of(lines, id_b), (strings{"b1", "b2", "b3"}));
  EXPECT_EQ(lines.size(), 7u);
  for (const auto& l : lines) {
    if (l.text == "a3") EXPECT_EQ(l.offset, 6u);  // continues where app.log was read to
    if (l.text == "b1") EXPECT_EQ(l.offset, 0u);
  }
}

TEST(follow_source, copytruncate_with_the_writer_appending_between_copy_and_truncate_reads_the_original) {
  testing::temp_dir d;
  const auto app = d.file("app.log", "a1\na2\n");
  auto cfg = follow_config({(d.path() / "app.log*").string()});
  cfg.from_start = true;
  follower f(cfg);
  f.start();
  ASSERT_TRUE(f.wait_for(has_all({"a1", "a2"})));
  const auto id_a = identity_of(app);
  // The copy is a snapshot; the original goes on growing until it is truncated. While
  // both show the content, it is read from the bigger one.
  d.file("copy.tmp", "a1\na2\n");
  ASSERT_EQ(::rename((d.path() / "copy.tmp").c_str(), (d.path() / "app.log.1").c_str()), 0);
  ASSERT_TRUE(poll_until([&] { return open_under(d.path()) == 2; })) << "the copy was never opened";
  append(app, "a3\n");
  ASSERT_TRUE(f.wait_for(has_all({"a3"})));
  ASSERT_EQ(::truncate(app.c_str(), 0), 0);
  append(app, "b1\n");
  ASSERT_TRUE(f.wait_for(has_all({"b1"})));
  f.stop();
  const auto lines = f.lines();
  EXPECT_EQ(texts_of(lines, id_a), (strings{"a1", "a2", "a3"}));
  EXPECT_EQ(texts_of(lines, identity_of(app)), (strings{"b1"}));
  EXPECT_EQ(lines.size(), 4u);
}

TEST(follow_source, a_rewrite_to_the_same_size_is_caught_by_its_mtime) {
  testing::temp_dir d;
  const auto app = d.file("app.log", "aaaa\nbbbb\n");
  auto cfg = follow_config({app}, 20);
  cfg.from_start = true;
  follower f(cfg);
  f.start();
  ASSERT_TRUE(f.wait_for(has_all({"aaaa", "bbbb"})));
  const auto id_a = identity_of(app);
  // The rewrite must get a later mtime than the write before it (the clock the
  // filesystem stamps with is coarse): wait until a fresh file's mtime is later.
  struct stat before {};
  ASSERT_EQ(::stat(app.c_str(), &before), 0);
  const auto probe = (d.path() / "probe").string();
  ASSERT_TRUE(poll_until([&] {
    append(probe, "x");
    struct stat p {};
    return ::stat(probe.c_str(), &p) == 0 &&
           (p.st_mtim.tv_sec > before.st_mtim.tv_sec ||
            (p.st_mtim.tv_sec == before.st_mtim.tv_sec && p.st_mtim.tv_nsec > before.st_mtim.tv_nsec));
  }));
  {
    // Truncated and rewritten in place, to exactly the old size.
    const int fd = ::open(app.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "cccc\ndddd\n", 10), 10);
    ::close(fd);
  }
  struct stat after {};
  ASSERT_EQ(::stat(app.c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_TRUE(f.wait_for(has_all({"cccc", "dddd"})));
  f.stop();
  const auto lines = f.lines();
  EXPECT_EQ(texts_of(lines, id_a), (strings{"aaaa", "bbbb"}));
  EXPECT_EQ(texts_of(lines, identity_of(app)), (strings{"cccc", "dddd"}));
  EXPECT_EQ(lines.size(), 4u);
}

TEST(follow_source, a_deleted_file_is_drained_then_let_go_and_its_path_waited_for_again) {
  testing::temp_dir d;
  const auto app = d.file("app.log", "a1\n");
  auto cfg = follow_config({app});
  cfg.from_start = true;
  follower f(cfg);
  f.start();
  ASSERT_TRUE(f.wait_for(has_all({"a1"})));
  const auto id_a = identity_of(app);
  // Lines written just before the delete, while the source waits for a batch: they are
  // read from the descriptor it holds.
  f.block_when_reading([&] { append(app, "a2\na3\n"); });
  ASSERT_EQ(::unlink(app.c_str()), 0);
  f.em().open_gate();
  ASSERT_TRUE(f.wait_for(has_all({"a2", "a3"})));
  // Drained, it is let go (no deleted file held open), and the path is followed again.
  EXPECT_TRUE(poll_until([&] { return open_under(d.path(), true) == 0; })) << "the deleted file is still held open";
  append(app, "c1\nc2\n");
  ASSERT_TRUE(f.wait_for(has_all({"c1", "c2"})));
  f.stop();
  const auto lines = f.lines();
  EXPECT_EQ(texts_of(lines, id_a), (strings{"a1", "a2", "a3"}));
  EXPECT_EQ(texts_of(lines, identity_of(app)), (strings{"c1", "c2"}));
  EXPECT_EQ(lines.size(), 5u);
}

// The unterminated last line ------------------------------------------------------------

TEST(follow_source, an_unterminated_last_line_is_held_until_its_newline_comes) {
  testing::temp_dir d;
  const auto app = (d.path() / "app.log").string();
  auto cfg = follow_config({app});
  cfg.from_start = true;  // found at the first scan or later: read from 0 either way
  follower f(cfg);
  f.start();
  // One write: when x1 is delivered the source has seen "par" too, and held it.
  append(app, "x1\npar");
  ASSERT_TRUE(f.wait_for(has_all({"x1"})));
  append(app, "t");
  append(app, "ial\nx2\n");
  ASSERT_TRUE(f.wait_for(has_all({"partial", "x2"})));
  f.stop();
  const auto lines = f.lines();
  EXPECT_EQ(all_texts(lines), (strings{"x1", "partial", "x2"}));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[1].terminated);
  EXPECT_EQ(lines[1].offset, 3u);
}

TEST(follow_source, an_unterminated_last_line_goes_on_without_its_newline_when_the_file_is_deleted) {
  testing::temp_dir d;
  const auto app = (d.path() / "app.log").string();
  auto cfg = follow_config({app});
  cfg.from_start = true;  // found at the first scan or later: read from 0 either way
  follower f(cfg);
  f.start();
  append(app, "y1\nlast words");
  ASSERT_TRUE(f.wait_for(has_all({"y1"})));
  ASSERT_EQ(::unlink(app.c_str()), 0);
  // Drained, let go, and no copy of it turned up: its held line ends it.
  ASSERT_TRUE(f.wait_for(has_all({"last words"})));
  append(app, "z1\n");  // the path is followed again, a new content
  ASSERT_TRUE(f.wait_for(has_all({"z1"})));
  f.stop();
  const auto lines = f.lines();
  EXPECT_EQ(all_texts(lines), (strings{"y1", "last words", "z1"}));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(lines[1].terminated);
  EXPECT_EQ(lines[1].offset, 3u);
  EXPECT_TRUE(lines[2].terminated);
}

TEST(follow_source, an_unterminated_last_line_goes_on_without_its_newline_when_the_file_is_rotated_away) {
  testing::temp_dir d;
  const auto app = d.file("app.log", "r1\nheld");
  auto cfg = follow_config({app}, 20);
  cfg.from_start = true;
  follower f(cfg);
  f.start();
  ASSERT_TRUE(f.wait_for(has_all({"r1"})));
  ASSERT_EQ(::rename(app.c_str(), (d.path() / "app.log.1").c_str()), 0);
  append(app, "s1\n");
  ASSERT_TRUE(f.wait_for(has_all({"held", "s1"})));
  f.stop();
  const auto lines = f.lines();
  EXPECT_EQ(texts_of(lines, identity_of((d.path() / "app.log.1").string())), (strings{"r1", "held"}));
  EXPECT_EQ(texts_of(lines, identity_of(app)), (strings{"s1"}));
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& l : lines) {
    EXPECT_EQ(l.terminated, l.text != "held") << l.text;
    if (l.text == "held") EXPECT_EQ(l.offset, 3u);
  }
}

TEST(follow_source, an_unterminated_last_line_goes_on_at_shutdown_without_a_checkpoint) {
  testing::temp_dir d;
  const auto app = (d.path() / "app.log").string();
  auto cfg = follow_config({app}, 20);
  cfg.from_start = true;  // found at the first scan or later: read from 0 either way
  follower f(cfg);
  f.start();
  append(app, "w1\nunfinished");
  ASSERT_TRUE(f.wait_for(has_all({"w1"})));
  f.stop();
  const auto lines = f.lines();
  EXPECT_EQ(all_texts(lines), (strings{"w1", "unfinished"}));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_FALSE(lines[1].terminated);
}

// Checkpoints ------------------------------------------------------------------------------

TEST(follow_source, a_restart_resumes_at_the_committed_offset_and_reads_a_held_line_whole) {
  testing::temp_dir d;
  const auto app = d.file("app.log", "l1\nl2\n");
  const auto later = (d.path() / "later.log").string();
  const auto cp_path = (d.path() / "checkpoint.json").string();
  const std::string pattern = (d.path() / "*.log").string();
  std::string id;
  {
    checkpoint_store cp(cp_path, false);
    auto cfg = follow_config({pattern});
    cfg.from_start = true;
    follower f(cfg, &cp);
    f.start();
    ASSERT_TRUE(f.wait_for(has_all({"l1", "l2"})));
    append(app, "l3\npa");
    ASSERT_TRUE(f.wait_for(has_all({"l3"})));
    f.stop();
    // With a checkpoint the held line stays unread at shutdown: read whole next time.
    EXPECT_EQ(all_texts(f.lines()), (strings{"l1", "l2", "l3"}));
    id = identity_of(app);
    EXPECT_EQ(cp.offset(id), std::optional<std::uint64_t>(9));
    ASSERT_TRUE(cp.save());
  }
  // Meanwhile: the held line completed, more lines, and a file new to the checkpoint.
  append(app, "rt\nl4\n");
  append(later, "n1\n");
  checkpoint_store cp(cp_path, false);
  ASSERT_TRUE(cp.existed());
  follower f(follow_config({pattern}), &cp);  // no --from-start: the checkpoint decides
  f.start();
  ASSERT_TRUE(f.wait_for(has_all({"part", "l4", "n1"})));
  append(app, "l5\n");
  ASSERT_TRUE(f.wait_for(has_all({"l5"})));
  f.stop();
  const auto lines = f.lines();
  EXPECT_EQ(texts_of(lines, id), (strings{"part", "l4", "l5"}));
  // Not known to the checkpoint: found after the first start, so read from 0.
  EXPECT_EQ(texts_of(lines, identity_of(later)), (strings{"n1"}));
  EXPECT_EQ(lines.size(), 4u);
  for (const auto& l : lines)
    if (l.text == "part") EXPECT_EQ(l.offset, 9u);
  EXPECT_EQ(cp.offset(id), std::optional<std::uint64_t>(20));
}

TEST(follow_source, batches_finished_out_of_order_never_move_the_checkpoint_past_one_in_flight) {
  testing::temp_dir d;
  const auto app = d.file("app.log", "first\n");
  checkpoint_store cp((d.path() / "checkpoint.json").string(), false);
  auto cfg = follow_config({app});
  cfg.from_start = true;
  follower f(cfg, &cp, 8);
  f.em().hold_finishing(true);
  f.start();
  ASSERT_TRUE(f.wait_for(has_all({"first"})));
  // One batch per write: each is delivered before the next is written.
  append(app, "second\n");
  ASSERT_TRUE(f.wait_for(has_all({"second"})));
  append(app, "third\n");
  ASSERT_TRUE(f.wait_for(has_all({"third"})));
  const auto id = identity_of(app);
  const auto held = f.em().held();
  ASSERT_EQ(held, (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(cp.offset(id), std::nullopt);
  ASSERT_TRUE(f.em().finish(2));
  EXPECT_EQ(cp.offset(id), std::nullopt) << "committed past batches 0 and 1, still in flight";
  ASSERT_TRUE(f.em().finish(0));
  EXPECT_EQ(cp.offset(id), std::optional<std::uint64_t>(6));  // "first\n" only
  ASSERT_TRUE(f.em().finish(1));
  EXPECT_EQ(cp.offset(id), std::optional<std::uint64_t>(19));  // all three
  f.stop();
  EXPECT_EQ(all_texts(f.lines()), (strings{"first", "second", "third"}));
  EXPECT_EQ(f.em().finished_calls(), 3u);
}

// Inputs it refuses or skips ----------------------------------------------------------------

TEST(follow_source, a_directory_named_with_F_is_a_failed_input_and_the_others_are_followed) {
  testing::temp_dir d;
  const auto sub = (d.path() / "sub").string();
  fs::create_directory(sub);
  {
    // Alone, it is all there is: run() ends at once.
    follower f(follow_config({sub}));
    f.start();
    ASSERT_TRUE(poll_until([&] { return f.src().failed_inputs() == 1; }));
    f.stop();
    EXPECT_EQ(f.src().failed_inputs(), 1u);
    EXPECT_TRUE(f.lines().empty());
  }
  const auto app = (d.path() / "app.log").string();
  auto cfg = follow_config({sub, app}, 20);
  cfg.from_start = true;  // found at the first scan or later: read from 0 either way
  follower f(cfg);
  f.start();
  append(app, "ok1\n");
  ASSERT_TRUE(f.wait_for(has_all({"ok1"})));
  f.stop();
  EXPECT_EQ(f.src().failed_inputs(), 1u) << "said and counted once, not at every rescan";
  EXPECT_EQ(all_texts(f.lines()), (strings{"ok1"}));
}

TEST(follow_source, its_own_output_is_not_followed_though_the_glob_matches_it) {
  testing::temp_dir d;
  const auto out = d.file("out.log", "o1\n");
  const auto app = d.file("app.log", "a1\n");
  auto cfg = follow_config({(d.path() / "*.log").string()});
  cfg.from_start = true;
  cfg.output = out;
  follower f(cfg);
  f.start();
  ASSERT_TRUE(f.wait_for(has_all({"a1"})));
  append(out, "o2\n");
  append(app, "a2\n");
  ASSERT_TRUE(f.wait_for(has_all({"a2"})));
  // A rescan after both writes (a new file makes one) still leaves it alone.
  append((d.path() / "new.log").string(), "n1\n");
  ASSERT_TRUE(f.wait_for(has_all({"n1"})));
  f.stop();
  EXPECT_EQ(sorted(all_texts(f.lines())), sorted({"a1", "a2", "n1"}));
}

// --max-open-files ------------------------------------------------------------------------

TEST(follow_source, idle_files_beyond_max_open_files_are_closed_and_reopened_when_they_grow) {
  testing::temp_dir d;
  strings paths;
  for (int i = 0; i < 3; ++i) paths.push_back(d.file("f" + std::to_string(i) + ".log", "f" + std::to_string(i) + "-1\n"));
  auto cfg = follow_config({(d.path() / "*.log").string()});
  cfg.from_start = true;
  cfg.max_open_files = 1;
  follower f(cfg);
  f.start();
  ASSERT_TRUE(f.wait_for(has_all({"f0-1", "f1-1", "f2-1"})));
  // Drained and idle, all but one are closed.
  ASSERT_TRUE(poll_until([&] { return open_under(d.path()) <= 1; })) << open_under(d.path()) << " open";
  for (int i = 0; i < 3; ++i) append(paths[i], "f" + std::to_string(i) + "-2\n");
  ASSERT_TRUE(f.wait_for(has_all({"f0-2", "f1-2", "f2-2"})));
  f.stop();
  const auto lines = f.lines();
  for (int i = 0; i < 3; ++i) {
    const auto n = "f" + std::to_string(i);
    EXPECT_EQ(texts_of(lines, identity_of(paths[i])), (strings{n + "-1", n + "-2"}));
  }
  EXPECT_EQ(lines.size(), 6u);
}

}  // namespace
}  // namespace sluice
