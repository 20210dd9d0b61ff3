#include "output/wait_profiles.h"

#include <gtest/gtest.h>

namespace waitscope {
namespace {

Report SampleReport() {
  Report r;
  r.tool_version = "test";
  r.duration_s = 2;
  r.min_block_ns = 1'000'000;
  WaitStack with_stack;
  with_stack.pid = 42;
  with_stack.comm = "api";
  with_stack.wait_class = WaitClass::kDisk;
  with_stack.syscall = "fsync";
  with_stack.target = "/var/log/j";
  with_stack.frames = {{"main", "/bin/api"}, {"save", "/bin/api"}, {"fsync", "libc.so.6"}};
  with_stack.stack_taken = true;
  with_stack.count = 3;
  with_stack.total_ns = 3000;
  with_stack.max_ns = 1500;
  WaitStack short_wait = with_stack;
  short_wait.frames.clear();
  short_wait.stack_taken = false;
  short_wait.wait_class = WaitClass::kSleep;
  short_wait.syscall = "nanosleep";
  short_wait.target = "-";
  short_wait.total_ns = 700;
  r.stacks = {with_stack, short_wait};
  r.waits = SummarizeWaits(r.stacks);
  return r;
}

TEST(WaitFoldedStacks, ProcessThenClassThenStackThenSyscallAndTarget) {
  std::vector<FoldedStack> folded = WaitFoldedStacks(SampleReport());
  ASSERT_EQ(folded.size(), 2u);
  EXPECT_EQ(folded[0].frames, (std::vector<std::string>{"api (42)", "disk", "main", "save", "fsync",
                                                        "fsync /var/log/j"}));
  EXPECT_EQ(folded[0].value, 3000u);
  // A wait without a stack keeps its place in the graph, labelled why.
  EXPECT_EQ(folded[1].frames,
            (std::vector<std::string>{"api (42)", "sleep", "[no stack: waits under 1.00ms]",
                                      "nanosleep"}));
}

TEST(WaitFoldedStacks, ALongWaitWhoseStackIsMissingSaysSo) {
  Report r = SampleReport();
  // The kernel side's WS_STACK_MISSING: past --min-block, but no stack came.
  r.stacks[0].frames.clear();
  std::vector<FoldedStack> folded = WaitFoldedStacks(r);
  ASSERT_EQ(folded.size(), 2u);
  EXPECT_EQ(folded[0].frames, (std::vector<std::string>{"api (42)", "disk", "[stack unavailable]",
                                                        "fsync /var/log/j"}));
}

TEST(WaitPprofProfile, TwoSampleTypesAndLabels) {
  PprofProfile p = WaitPprofProfile(SampleReport(), 123);
  ASSERT_EQ(p.sample_types.size(), 2u);
  EXPECT_EQ(p.sample_types[0], (std::pair<std::string, std::string>{"waits", "count"}));
  EXPECT_EQ(p.sample_types[1], (std::pair<std::string, std::string>{"wait", "nanoseconds"}));
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.samples[0].values, (std::vector<std::int64_t>{3, 3000}));
  EXPECT_EQ(p.samples[0].frames.back().name, "fsync /var/log/j");
  bool has_pid = false;
  for (const auto& [k, v] : p.samples[0].num_labels) has_pid |= (k == "pid" && v == 42);
  EXPECT_TRUE(has_pid);
  EXPECT_EQ(p.time_nanos, 123);
  EXPECT_EQ(p.duration_nanos, 2'000'000'000);
}

TEST(WaitPprofProfile, AProcessWithoutANameIsLabelledAsInTheGraph) {
  Report r = SampleReport();
  r.stacks[0].comm.clear();
  PprofProfile p = WaitPprofProfile(r, 0);
  ASSERT_FALSE(p.samples.empty());
  ASSERT_FALSE(p.samples[0].str_labels.empty());
  EXPECT_EQ(p.samples[0].str_labels[0], (std::pair<std::string, std::string>{"comm", "?"}));
  EXPECT_EQ(WaitFoldedStacks(r)[0].frames[0], "? (42)");
}

TEST(SummarizeWaits, SumsStacksPerTargetLargestFirst) {
  Report r = SampleReport();
  WaitStack again = r.stacks[0];
  again.frames = {{"other", "/bin/api"}};
  again.total_ns = 10;
  again.max_ns = 2000;
  r.stacks.push_back(again);
  std::vector<WaitRow> rows = SummarizeWaits(r.stacks);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].syscall, "fsync");
  EXPECT_EQ(rows[0].count, 6u);
  EXPECT_EQ(rows[0].total_ns, 3010u);
  EXPECT_EQ(rows[0].max_ns, 2000u);
  EXPECT_EQ(rows[1].syscall, "nanosleep");
}

}  // namespace
}  // namespace waitscope
