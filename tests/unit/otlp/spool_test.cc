// Spool: bound, oldest-first drops, reload in order after a restart, atomic
// files (no temporaries left, leftovers cleaned), memory-only mode.
#include "otlp/spool.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace waitscope::otlp {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/ws-spool-test-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Each entry is exactly this many bytes on disk (header included).
  static std::uint64_t EntrySize(const std::string& body) {
    return SerializeSpoolEntry("metrics", "", body).size();
  }
  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  static std::vector<std::string> Drain(Spool& spool) {
    std::vector<std::string> bodies;
    while (!spool.empty()) {
      auto entry = spool.Front();
      EXPECT_TRUE(entry.ok());
      if (entry) bodies.push_back(entry->body);
      spool.PopFront();
    }
    return bodies;
  }

  std::string dir_;
};

TEST_F(SpoolTest, KeepsOrderRouteEncodingAndBytes) {
  auto spool = Spool::Open({dir_, 1 << 20});
  ASSERT_TRUE(spool.ok()) << spool.error().message;
  ASSERT_EQ(*spool->Push("metrics", "gzip", std::string("a\0b", 3)), 0u);
  ASSERT_EQ(*spool->Push("logs", "", "second"), 0u);
  EXPECT_EQ(spool->size(), 2u);
  EXPECT_EQ(spool->bytes(), SerializeSpoolEntry("metrics", "gzip", std::string("a\0b", 3)).size() +
                                SerializeSpoolEntry("logs", "", "second").size());
  auto first = spool->Front();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->route, "metrics");
  EXPECT_EQ(first->encoding, "gzip");
  EXPECT_EQ(first->body, std::string("a\0b", 3));
  spool->PopFront();
  EXPECT_EQ(spool->Front()->route, "logs");
  spool->PopFront();
  EXPECT_TRUE(spool->empty());
  EXPECT_EQ(spool->bytes(), 0u);
  EXPECT_TRUE(Files().empty());
}

TEST_F(SpoolTest, DropsOldestBeyondBoundAndCountsThem) {
  const std::uint64_t size = EntrySize("window-0");
  auto spool = Spool::Open({dir_, 3 * size});
  ASSERT_TRUE(spool.ok());
  std::uint64_t dropped = 0;
  for (int i = 0; i < 5; ++i) dropped += *spool->Push("metrics", "", "window-" + std::to_string(i));
  EXPECT_EQ(dropped, 2u);
  EXPECT_EQ(spool->dropped(), 2u);
  EXPECT_EQ(spool->bytes(), 3 * size);
  EXPECT_EQ(Files().size(), 3u);
  EXPECT_EQ(Drain(*spool), (std::vector<std::string>{"window-2", "window-3", "window-4"}));
}

TEST_F(SpoolTest, EntryLargerThanBoundIsDroppedOnArrival) {
  auto spool = Spool::Open({dir_, 64});
  ASSERT_TRUE(spool.ok());
  ASSERT_EQ(*spool->Push("metrics", "", "small"), 0u);
  EXPECT_EQ(*spool->Push("metrics", "", std::string(100, 'x')), 1u);
  EXPECT_EQ(spool->size(), 1u);
  EXPECT_EQ(Drain(*spool), std::vector<std::string>{"small"});
}

TEST_F(SpoolTest, ReloadsInOrderAfterRestart) {
  {
    auto spool = Spool::Open({dir_, 1 << 20});
    ASSERT_TRUE(spool.ok());
    for (int i = 0; i < 12; ++i) ASSERT_TRUE(spool->Push("metrics", "", std::to_string(i)).ok());
    spool->PopFront();  // delivered before the "crash"
  }
  auto spool = Spool::Open({dir_, 1 << 20});
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ(spool->size(), 11u);
  ASSERT_TRUE(spool->Push("metrics", "", "new").ok());  // sequence continues after the old ones
  std::vector<std::string> expected;
  for (int i = 1; i < 12; ++i) expected.push_back(std::to_string(i));
  expected.push_back("new");
  EXPECT_EQ(Drain(*spool), expected);
}

TEST_F(SpoolTest, SmallerBoundAtReloadTrimsOldest) {
  const std::uint64_t size = EntrySize("w0");
  {
    auto spool = Spool::Open({dir_, 10 * size});
    ASSERT_TRUE(spool.ok());
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(spool->Push("metrics", "", "w" + std::to_string(i)).ok());
  }
  auto spool = Spool::Open({dir_, 2 * size});
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ(spool->dropped(), 3u);
  EXPECT_EQ(Drain(*spool), (std::vector<std::string>{"w3", "w4"}));
}

TEST_F(SpoolTest, AtomicFilesAndLeftoversOfACrash) {
  {
    auto spool = Spool::Open({dir_, 1 << 20});
    ASSERT_TRUE(spool.ok());
    ASSERT_TRUE(spool->Push("metrics", "", "one").ok());
  }
  // Every file is a complete entry: no temporary survives a successful push.
  ASSERT_EQ(Files(), std::vector<std::string>{"00000000000000000001.wsq"});
  // What an interrupted write leaves, and a file that is not ours.
  std::ofstream(dir_ + "/00000000000000000002.wsq.tmp.Ab12Cd") << "WSQ1\n\nmetr";
  std::ofstream(dir_ + "/README") << "not a spool entry";
  auto spool = Spool::Open({dir_, 1 << 20});
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ(spool->size(), 1u);
  EXPECT_EQ(Files(), (std::vector<std::string>{"00000000000000000001.wsq", "README"}));
  EXPECT_EQ(Drain(*spool), std::vector<std::string>{"one"});
}

TEST_F(SpoolTest, CorruptEntryIsReportedNotMisread) {
  std::ofstream(dir_ + "/00000000000000000007.wsq") << "garbage";
  auto spool = Spool::Open({dir_, 1 << 20});
  ASSERT_TRUE(spool.ok());
  ASSERT_EQ(spool->size(), 1u);
  auto entry = spool->Front();
  ASSERT_FALSE(entry.ok());
  EXPECT_NE(entry.error().message.find("WSQ1"), std::string::npos);
  spool->PopFront();
  EXPECT_TRUE(spool->empty());
}

TEST(SpoolMemoryTest, SameBoundWithoutDirectory) {
  const std::uint64_t size = SerializeSpoolEntry("logs", "", "b0").size();
  auto spool = Spool::Open({"", 2 * size});
  ASSERT_TRUE(spool.ok());
  std::uint64_t dropped = 0;
  for (int i = 0; i < 4; ++i) dropped += *spool->Push("logs", "", "b" + std::to_string(i));
  EXPECT_EQ(dropped, 2u);
  EXPECT_EQ(spool->Front()->body, "b2");
}

// max_bytes 0 (spool.max_bytes: 0 in the config): no spool. The directory is
// not touched, and only the entry being sent is kept.
TEST_F(SpoolTest, ZeroBoundKeepsOnlyTheNewestEntryInMemory) {
  const std::string unused = dir_ + "/never-created";
  auto spool = Spool::Open({unused, 0});
  ASSERT_TRUE(spool.ok()) << spool.error().message;
  EXPECT_TRUE(spool->none());
  EXPECT_EQ(*spool->Push("metrics", "", "w0"), 0u);
  EXPECT_EQ(*spool->Push("metrics", "", "w1"), 1u);
  EXPECT_EQ(spool->size(), 1u);
  EXPECT_EQ(spool->dropped(), 1u);
  EXPECT_EQ(spool->bytes(), EntrySize("w1"));
  EXPECT_FALSE(fs::exists(unused));
  EXPECT_EQ(Drain(*spool), std::vector<std::string>{"w1"});
}

TEST(SpoolEntryTest, ParseRejectsTruncatedHeader) {
  EXPECT_FALSE(ParseSpoolEntry("WSQ1\ngzip").ok());
  auto entry = ParseSpoolEntry(SerializeSpoolEntry("name=a&from=1", "", "\n\nbody\n"));
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->route, "name=a&from=1");
  EXPECT_EQ(entry->body, "\n\nbody\n");
}

}  // namespace
}  // namespace waitscope::otlp
