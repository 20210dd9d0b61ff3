#include <gtest/gtest.h>
#include <sys/syscall.h>

#include "core/duration.h"
#include "core/wait_class.h"
#include "loader/syscall_table.h"
#include "waitscope/bpf/waits.h"

namespace waitscope {
namespace {

TEST(ParseDurationNs, AcceptsUnits) {
  EXPECT_EQ(*ParseDurationNs("0"), 0u);
  EXPECT_EQ(*ParseDurationNs("1ms"), 1'000'000u);
  EXPECT_EQ(*ParseDurationNs("250us"), 250'000u);
  EXPECT_EQ(*ParseDurationNs("250\u00b5s"), 250'000u);
  EXPECT_EQ(*ParseDurationNs("2.5s"), 2'500'000'000u);
  EXPECT_EQ(*ParseDurationNs("10ns"), 10u);
  EXPECT_EQ(*ParseDurationNs("2m"), 120'000'000'000u);
}

TEST(ParseDurationNs, RejectsWhatAPersonCouldMisread) {
  auto bare = ParseDurationNs("5");
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().message.find("needs a unit"), std::string::npos);
  EXPECT_FALSE(ParseDurationNs("").ok());
  EXPECT_FALSE(ParseDurationNs("-1ms").ok());
  EXPECT_FALSE(ParseDurationNs("1.2.3ms").ok());
  EXPECT_FALSE(ParseDurationNs("ms").ok());
  auto unit = ParseDurationNs("3 fortnights");
  ASSERT_FALSE(unit.ok());
  EXPECT_NE(unit.error().message.find("unknown unit"), std::string::npos);
  EXPECT_FALSE(ParseDurationNs("1000000h").ok());  // over 100 days
}

TEST(ParseSecondsOrDurationNs, BareNumberIsSeconds) {
  EXPECT_EQ(*ParseSecondsOrDurationNs("30"), 30'000'000'000u);
  EXPECT_EQ(*ParseSecondsOrDurationNs("0.5"), 500'000'000u);
  EXPECT_EQ(*ParseSecondsOrDurationNs("500ms"), 500'000'000u);
}

TEST(WaitClass, NamesRoundTrip) {
  for (WaitClass c :
       {WaitClass::kDisk, WaitClass::kNet, WaitClass::kDb, WaitClass::kTls, WaitClass::kLock,
        WaitClass::kSleep, WaitClass::kPoll, WaitClass::kPipe, WaitClass::kOther}) {
    EXPECT_EQ(ParseWaitClass(WaitClassName(c)), c);
  }
  EXPECT_FALSE(ParseWaitClass("cpu").has_value());
}

TEST(SyscallTable, KnowsTheBlockingSyscallsOfThisArchitecture) {
  EXPECT_EQ(SyscallName(SYS_read), "read");
  EXPECT_TRUE(LookupSyscall(SYS_read).fd_arg0);
  EXPECT_EQ(SyscallName(SYS_fsync), "fsync");
  EXPECT_TRUE(LookupSyscall(SYS_fsync).fd_arg0);
  EXPECT_EQ(SyscallName(SYS_futex), "futex");
  EXPECT_FALSE(LookupSyscall(SYS_futex).fd_arg0);
  EXPECT_EQ(SyscallName(SYS_clock_nanosleep), "clock_nanosleep");
  EXPECT_EQ(SyscallName(100000), "syscall_100000");
  EXPECT_EQ(SyscallName(WS_SYSCALL_PAGE_FAULT), "page_fault");
  // The kernel side's table must hold every number user space knows.
  EXPECT_LE(SyscallTableSize(), static_cast<std::uint32_t>(WS_SYSCALL_TABLE_SIZE));
}

}  // namespace
}  // namespace waitscope
