// The checkpoint file itself (source/checkpoint.hpp): one process per checkpoint, and a
// failed save that is counted, reported and retried.
#include "sluice/source/checkpoint.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include <fmt/format.h>

#include "sluice/errors.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Two processes on one --checkpoint overwrote each other's saves and shared one temp
// file: the second store (here the same process, a second open file) is refused, by pid.
TEST(Checkpoint, SecondStoreOnOneCheckpointIsRefusedNamingTheHolder) {
  testing::temp_dir dir;
  const std::string path = (dir.path() / "cp.json").string();
  auto first = std::make_unique<checkpoint_store>(path, false);
  try {
    checkpoint_store second(path, false);
    ADD_FAILURE() << "a second store on one checkpoint was accepted";
  } catch (const startup_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("in use"), std::string::npos) << msg;
    EXPECT_NE(msg.find(fmt::format("pid {}", ::getpid())), std::string::npos) << msg;
  }
  EXPECT_EQ(read_all(dir.path() / "cp.json.lock"), fmt::format("{}\n", ::getpid()));
  first.reset();
  // Released with the store: the next one starts.
  EXPECT_NO_THROW(checkpoint_store again(path, false));
}

// A refused start (a corrupt checkpoint) does not keep the lock.
TEST(Checkpoint, LockIsReleasedWhenTheStoreCannotStart) {
  testing::temp_dir dir;
  const std::string path = dir.file("cp.json", "not json");
  EXPECT_THROW(checkpoint_store(path, false), startup_error);
  EXPECT_NO_THROW(checkpoint_store(path, true));
}

// The temp file is the process's own; a failed save is counted, leaves save_failed(),
// and what it could not save goes out with the next save.
TEST(Checkpoint, FailedSaveIsCountedAndRetried) {
  testing::temp_dir dir;
  const std::string path = (dir.path() / "cp.json").string();
  checkpoint_store store(path, false);
  store.commit("id-a", "a.log", 10);
  ASSERT_TRUE(store.save());
  EXPECT_EQ(store.save_failures(), 0u);
  EXPECT_FALSE(store.save_failed());

  // A directory where the temp file goes makes the save fail (also as root).
  const auto tmp = dir.path() / fmt::format("cp.json.tmp.{}", ::getpid());
  std::filesystem::create_directory(tmp);
  store.commit("id-a", "a.log", 20);
  EXPECT_FALSE(store.save());
  EXPECT_TRUE(store.save_failed());
  EXPECT_EQ(store.save_failures(), 1u);
  EXPECT_NE(read_all(path).find("\"offset\":10"), std::string::npos) << "the old checkpoint is whole";

  std::filesystem::remove(tmp);
  EXPECT_TRUE(store.save());  // nothing new committed: the failed save's content retried
  EXPECT_FALSE(store.save_failed());
  EXPECT_EQ(store.save_failures(), 1u);
  EXPECT_NE(read_all(path).find("\"offset\":20"), std::string::npos) << read_all(path);
  EXPECT_FALSE(std::filesystem::exists(tmp));
}

// --checkpoint naming a directory said "corrupt (not JSON)".
TEST(Checkpoint, DirectoryIsNamedNotCalledCorrupt) {
  testing::temp_dir dir;
  for (bool reset : {false, true}) {
    try {
      checkpoint_store store(dir.path().string(), reset);
      ADD_FAILURE() << "a directory was taken as a checkpoint (reset " << reset << ")";
    } catch (const startup_error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("is a directory"), std::string::npos) << msg;
      EXPECT_EQ(msg.find("corrupt"), std::string::npos) << msg;
    }
  }
}

}  // namespace
}  // namespace sluice
