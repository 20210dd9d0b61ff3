#include <gtest/gtest.h>
#include <sys/syscall.h>

#include "core/duration.h"
#include "core/utf8.h"
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

TEST(DurationSpelling, LargestExactUnitAndReadBack) {
  EXPECT_EQ(DurationSpelling(0), "0");
  EXPECT_EQ(DurationSpelling(86'400'000'000'000), "24h");
  EXPECT_EQ(DurationSpelling(90'000'000'000), "90s");
  EXPECT_EQ(DurationSpelling(120'000'000'000), "2m");
  EXPECT_EQ(DurationSpelling(1'000'000'000), "1s");
  EXPECT_EQ(DurationSpelling(1'500'000), "1500us");
  EXPECT_EQ(DurationSpelling(7), "7ns");
  for (std::uint64_t ns : {0ull, 1ull, 999ull, 1'000ull, 60'000'000'000ull, 3'599'999'999'999ull}) {
    EXPECT_EQ(*ParseDurationNs(DurationSpelling(ns)), ns) << DurationSpelling(ns);
  }
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
  // Under a nanosecond once became 0 ("--min-block 0.5ns": a stack for
  // every wait) without a word.
  EXPECT_EQ(ParseDurationNs("0.0000001ns").error().message,
            "'0.0000001ns' is shorter than a nanosecond");
  EXPECT_FALSE(ParseSecondsOrDurationNs("0.0000000001").ok());
  EXPECT_EQ(*ParseDurationNs("0.5ns"), 1u);
  EXPECT_EQ(*ParseDurationNs("0ns"), 0u);
  // The suggested spelling parses, or there is none.
  EXPECT_EQ(ParseDurationNs("5.").error().message,
            "'5.' needs a unit (ns, us, ms, s), for example 5ms");
  EXPECT_EQ(ParseDurationNs("99999999999999999999").error().message,
            "'99999999999999999999' needs a unit (ns, us, ms, s)");
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

TEST(Utf8, DecodesWellFormedSequencesOnly) {
  std::uint32_t cp = 0;
  EXPECT_EQ(DecodeUtf8("A", &cp), 1u);
  EXPECT_EQ(cp, 0x41u);
  EXPECT_EQ(DecodeUtf8("\xC3\xA9", &cp), 2u);  // é
  EXPECT_EQ(cp, 0xE9u);
  EXPECT_EQ(DecodeUtf8("\xE2\x82\xAC", &cp), 3u);  // €
  EXPECT_EQ(cp, 0x20ACu);
  EXPECT_EQ(DecodeUtf8("\xF0\x9F\x98\x80", &cp), 4u);  // U+1F600
  EXPECT_EQ(cp, 0x1F600u);
  EXPECT_EQ(DecodeUtf8("\xF4\x8F\xBF\xBF", &cp), 4u);  // U+10FFFF, the last
  EXPECT_EQ(DecodeUtf8("", &cp), 0u);
  EXPECT_EQ(DecodeUtf8("\x80", &cp), 0u);              // a lone continuation
  EXPECT_EQ(DecodeUtf8("\xC0\xAF", &cp), 0u);          // overlong '/'
  EXPECT_EQ(DecodeUtf8("\xE0\x80\xAF", &cp), 0u);      // overlong, 3 bytes
  EXPECT_EQ(DecodeUtf8("\xED\xA0\x80", &cp), 0u);      // a surrogate
  EXPECT_EQ(DecodeUtf8("\xF4\x90\x80\x80", &cp), 0u);  // above U+10FFFF
  EXPECT_EQ(DecodeUtf8("\xE2\x82", &cp), 0u);          // cut short
  EXPECT_EQ(DecodeUtf8("\xE2\x82x", &cp), 0u);
  EXPECT_EQ(DecodeUtf8("\xFF", &cp), 0u);
}

TEST(Utf8, ToValidUtf8ReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(ToValidUtf8("plain ascii"), "plain ascii");
  EXPECT_EQ(ToValidUtf8("caf\xC3\xA9 \xE2\x82\xAC"), "caf\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(ToValidUtf8("a\xFF-"), "a\xEF\xBF\xBD-");
  EXPECT_EQ(ToValidUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ToValidUtf8(std::string_view("nul\0ok", 6)), std::string("nul\0ok", 6));
  for (std::string_view s : {"a\xFF-", "\xC0\xAF", "\xED\xA0\x80", "x\xF0\x9F\x98"}) {
    EXPECT_FALSE(IsValidUtf8(s)) << s;
    EXPECT_TRUE(IsValidUtf8(ToValidUtf8(s))) << s;
  }
}

}  // namespace
}  // namespace waitscope
