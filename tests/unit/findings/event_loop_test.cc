// event_loop_blocked: blocks of event-loop threads, and what is not a block.
#include <gtest/gtest.h>

#include "findings/findings_engine.h"
#include "record_builder.h"

namespace waitscope::findings {
namespace {

using testing::Evidence;
using testing::kMs;

EventLoopBlock Block(WaitClass c, const std::string& syscall, const std::string& target,
                     std::uint64_t ns, std::uint64_t at = 0) {
  return EventLoopBlock{.pid = 42,
                        .tid = 42,
                        .comm = "node",
                        .wait_class = c,
                        .syscall = syscall,
                        .target = target,
                        .start_ns = at,
                        .blocked_ns = ns};
}

std::vector<FindingRow> RunBlocks(const std::vector<EventLoopBlock>& blocks,
                                  const DetectorConfig& config = {}) {
  FindingsEngine engine(config);
  for (const EventLoopBlock& b : blocks) engine.AddEventLoopBlock(b);
  return engine.Finish(Report{}, 60);
}

TEST(EventLoopBlockedTest, RepeatedFileReadsAreFound) {
  std::vector<EventLoopBlock> blocks;
  for (int i = 0; i < 5; ++i) {
    blocks.push_back(Block(WaitClass::kDisk, "read", "/etc/app/config.json", 15 * kMs));
  }
  blocks.push_back(Block(WaitClass::kDisk, "read", "/etc/app/config.json", 45 * kMs));
  const auto found = RunBlocks(blocks);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, "event_loop_blocked");
  EXPECT_EQ(found[0].severity, Severity::kWarning);
  EXPECT_EQ(found[0].cost_ns, 120 * kMs);
  const auto ev = Evidence(found[0]);
  EXPECT_EQ(ev["target"], "/etc/app/config.json");
  EXPECT_EQ(ev["syscall"], "read");
  EXPECT_DOUBLE_EQ(ev["longest_ms"].get<double>(), 45);
  EXPECT_EQ(ev["count"], 6);
}

TEST(EventLoopBlockedTest, ParkingInEpollIsNotABlock) {
  std::vector<EventLoopBlock> blocks;
  for (int i = 0; i < 50; ++i) {
    blocks.push_back(Block(WaitClass::kPoll, "epoll_wait", "-", 500 * kMs));
    blocks.push_back(Block(WaitClass::kPoll, "read", "anon:[eventfd]", 200 * kMs));
    blocks.push_back(Block(WaitClass::kDisk, "read", "/etc/app/config.json", 2 * kMs));
  }
  EXPECT_TRUE(RunBlocks(blocks).empty());
}

// A Python asyncio loop sharing the GIL with request threads waits on the
// GIL's futex whenever they run (ci-run31 saw 13 ms waits in the fixed shop).
TEST(EventLoopBlockedTest, WaitingForALockIsNotABlock) {
  std::vector<EventLoopBlock> blocks(20, Block(WaitClass::kLock, "futex", "-", 150 * kMs));
  EXPECT_TRUE(RunBlocks(blocks).empty());
  blocks.push_back(Block(WaitClass::kSleep, "nanosleep", "-", 150 * kMs));
  const auto found = RunBlocks(blocks);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(Evidence(found[0])["syscall"], "nanosleep");
}

TEST(EventLoopBlockedTest, OneShortBlockIsNotEnoughButOneLongIs) {
  EXPECT_TRUE(
      RunBlocks({Block(WaitClass::kDisk, "openat", "/etc/app/config.json", 12 * kMs)}).empty());
  const auto found = RunBlocks({Block(WaitClass::kSleep, "nanosleep", "-", 150 * kMs)});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kCritical);
  EXPECT_NE(found[0].summary.find("nanosleep"), std::string::npos) << found[0].summary;
}

TEST(EventLoopBlockedTest, EndpointIsTheOneAnsweredAfterMostBlocks) {
  std::vector<EventLoopBlock> blocks;
  for (const char* endpoint : {"POST /newsletter", "POST /newsletter", "GET /health", ""}) {
    blocks.push_back(Block(WaitClass::kNet, "recvfrom", "127.0.0.1:2525", 100 * kMs));
    blocks.back().endpoint = endpoint;
  }
  const auto found = RunBlocks(blocks);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].endpoint, "POST /newsletter");
  EXPECT_NE(found[0].summary.find("serving POST /newsletter"), std::string::npos)
      << found[0].summary;
  const auto ev = Evidence(found[0]);
  EXPECT_EQ(ev["endpoints"]["POST /newsletter"], 2);
  EXPECT_EQ(ev["endpoints"]["GET /health"], 1);
  EXPECT_EQ(ev["endpoints"]["(none)"], 1);
  EXPECT_EQ(ev["comm"], "node");
}

TEST(EventLoopBlockedTest, NoEndpointWhenNoResponseFollowedABlock) {
  const auto found = RunBlocks({Block(WaitClass::kSleep, "nanosleep", "-", 150 * kMs)});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].endpoint, "");
  EXPECT_EQ(found[0].summary.find("serving"), std::string::npos) << found[0].summary;
}

TEST(EventLoopBlockedTest, ThresholdFromOption) {
  std::vector<EventLoopBlock> blocks(
      5, Block(WaitClass::kDisk, "fsync", "/var/log/app.log", 15 * kMs));
  DetectorConfig config;
  ASSERT_TRUE(SetDetectorOption(config, "event_loop_blocked.min_block_ms", 20).ok());
  EXPECT_TRUE(RunBlocks(blocks, config).empty());
  EXPECT_EQ(RunBlocks(blocks).size(), 1u);
}

}  // namespace
}  // namespace waitscope::findings
