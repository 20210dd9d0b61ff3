// GroupSslPlaces: each OpenSSL program attaches once per place, whatever
// aliases and shared programs the library's symbols imply.
#include "loader/ssl_places.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "loader/probe.h"

namespace waitscope {
namespace {

// Programs as numbers; 0 is "none". As in the real table: SSL_read_ex and
// its worker share an entry program, every data function shares one return
// program, SSL_free has no return program.
enum Prog : int { kNone, kReadEntry, kReadExEntry, kWriteEntry, kDataRet, kFreeEntry };

std::pair<Prog, Prog> ProgramsOf(SslFunction f) {
  switch (f) {
    case SslFunction::kRead:
      return {kReadEntry, kDataRet};
    case SslFunction::kReadEx:
    case SslFunction::kReadWorker:
      return {kReadExEntry, kDataRet};
    case SslFunction::kWrite:
      return {kWriteEntry, kDataRet};
    case SslFunction::kFree:
      return {kFreeEntry, kNone};
    default:
      return {kNone, kNone};
  }
}

std::vector<ProgramPlaces<Prog>> Group(std::vector<SslFunctionOffset> functions) {
  return GroupSslPlaces<Prog>(std::span<const SslFunctionOffset>(functions), ProgramsOf);
}

TEST(SslPlaces, SharedProgramsGetEveryPlaceOnce) {
  const auto groups = Group({{SslFunction::kRead, 0x100},
                             {SslFunction::kReadEx, 0x200},
                             {SslFunction::kWrite, 0x300},
                             {SslFunction::kFree, 0x400}});
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[0].program, kReadEntry);
  EXPECT_FALSE(groups[0].retprobe);
  EXPECT_EQ(groups[0].offsets, (std::vector<std::uint64_t>{0x100}));
  EXPECT_EQ(groups[1].program, kDataRet);
  EXPECT_TRUE(groups[1].retprobe);
  EXPECT_EQ(groups[1].offsets, (std::vector<std::uint64_t>{0x100, 0x200, 0x300}));
  EXPECT_EQ(groups[2].program, kReadExEntry);
  EXPECT_EQ(groups[3].program, kWriteEntry);
  EXPECT_EQ(groups[4].program, kFreeEntry);
  EXPECT_FALSE(groups[4].retprobe);
}

// A worker that is an alias of SSL_read_ex (one address, two symbols) and a
// symbol listed twice: SSL_read_ex's entry and the return program each run
// once per call there, not twice.
TEST(SslPlaces, AliasedFunctionsAttachOncePerPlace) {
  const auto groups = Group({{SslFunction::kReadEx, 0x200},
                             {SslFunction::kReadWorker, 0x200},
                             {SslFunction::kReadWorker, 0x280},
                             {SslFunction::kRead, 0x100},
                             {SslFunction::kRead, 0x100}});
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].program, kReadExEntry);
  EXPECT_EQ(groups[0].offsets, (std::vector<std::uint64_t>{0x200, 0x280}));
  EXPECT_EQ(groups[1].program, kDataRet);
  EXPECT_EQ(groups[1].offsets, (std::vector<std::uint64_t>{0x200, 0x280, 0x100}));
  EXPECT_EQ(groups[2].program, kReadEntry);
  EXPECT_EQ(groups[2].offsets, (std::vector<std::uint64_t>{0x100}));
}

// A function without programs (here SSL_do_handshake) adds no group, and
// its address joins no other program's places.
TEST(SslPlaces, FunctionsWithoutProgramsAddNoPlaces) {
  EXPECT_TRUE(Group({}).empty());
  EXPECT_TRUE(Group({{SslFunction::kDoHandshake, 0x10}}).empty());
  const auto groups = Group({{SslFunction::kDoHandshake, 0x10},
                             {SslFunction::kFree, 0x400},
                             {SslFunction::kRead, 0x100},
                             {SslFunction::kDoHandshake, 0x20}});
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].program, kFreeEntry);
  EXPECT_EQ(groups[0].offsets, (std::vector<std::uint64_t>{0x400}));
  EXPECT_EQ(groups[1].program, kReadEntry);
  EXPECT_EQ(groups[1].offsets, (std::vector<std::uint64_t>{0x100}));
  EXPECT_EQ(groups[2].program, kDataRet);
  EXPECT_EQ(groups[2].offsets, (std::vector<std::uint64_t>{0x100}));
}

}  // namespace
}  // namespace waitscope
