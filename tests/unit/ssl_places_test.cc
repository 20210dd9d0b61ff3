// The OpenSSL function -> program table and GroupSslPlaces: each program
// attaches once per place, whatever aliases and shared programs the
// library's symbols imply; and the roles are the BPF object's uprobe
// programs. All of it is the code AttachSsl runs.
#include "loader/ssl_places.h"

#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "loader/probe.h"
#include "waitscope.skel.h"

namespace waitscope {
namespace {

using P = SslProgram;
using Offsets = std::vector<std::uint64_t>;

std::vector<ProgramPlaces> Group(std::vector<SslFunctionOffset> functions) {
  return GroupSslPlaces(functions);
}

// What the BPF programs assume of the table: a worker has its public
// function's arguments and result, the handshake calls share their programs,
// and SSL_free alone has no return probe.
TEST(SslPlaces, TableSharesProgramsWhereTheArgumentsMatch) {
  auto same = [](SslFunction a, SslFunction b) {
    const SslEntryAndReturn x = SslProgramsOf(a), y = SslProgramsOf(b);
    return x.entry == y.entry && x.ret == y.ret;
  };
  EXPECT_TRUE(same(SslFunction::kReadWorker, SslFunction::kReadEx));
  EXPECT_TRUE(same(SslFunction::kWriteWorker, SslFunction::kWriteEx));
  EXPECT_TRUE(same(SslFunction::kConnect, SslFunction::kDoHandshake));
  EXPECT_TRUE(same(SslFunction::kAccept, SslFunction::kDoHandshake));
  EXPECT_FALSE(same(SslFunction::kRead, SslFunction::kReadEx));
  for (SslFunction f :
       {SslFunction::kRead, SslFunction::kReadEx, SslFunction::kWrite, SslFunction::kWriteEx}) {
    EXPECT_EQ(SslProgramsOf(f).ret, P::kDataRet);
  }
  EXPECT_EQ(SslProgramsOf(SslFunction::kFree).ret, P::kNone);
}

TEST(SslPlaces, SharedProgramsGetEveryPlaceOnce) {
  const auto groups = Group({{SslFunction::kRead, 0x100},
                             {SslFunction::kReadEx, 0x200},
                             {SslFunction::kWrite, 0x300},
                             {SslFunction::kFree, 0x400}});
  ASSERT_EQ(groups.size(), 5u);  // SSL_free's missing return program makes no group
  EXPECT_EQ(groups[0].program, P::kReadEntry);
  EXPECT_FALSE(groups[0].retprobe);
  EXPECT_EQ(groups[0].offsets, Offsets{0x100});
  EXPECT_EQ(groups[1].program, P::kDataRet);
  EXPECT_TRUE(groups[1].retprobe);
  EXPECT_EQ(groups[1].offsets, (Offsets{0x100, 0x200, 0x300}));
  EXPECT_EQ(groups[2].program, P::kReadExEntry);
  EXPECT_EQ(groups[3].program, P::kWriteEntry);
  EXPECT_EQ(groups[4].program, P::kFreeEntry);
  EXPECT_FALSE(groups[4].retprobe);
  EXPECT_EQ(groups[4].offsets, Offsets{0x400});
}

// A worker that is an alias of SSL_read_ex (one address, two symbols) and a
// symbol listed twice: SSL_read_ex's entry and the return program each run
// once per call there, not twice. The same for the handshake calls.
TEST(SslPlaces, AliasedFunctionsAttachOncePerPlace) {
  const auto groups = Group({{SslFunction::kReadEx, 0x200},
                             {SslFunction::kReadWorker, 0x200},
                             {SslFunction::kReadWorker, 0x280},
                             {SslFunction::kRead, 0x100},
                             {SslFunction::kRead, 0x100},
                             {SslFunction::kConnect, 0x500},
                             {SslFunction::kDoHandshake, 0x500}});
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[0].program, P::kReadExEntry);
  EXPECT_EQ(groups[0].offsets, (Offsets{0x200, 0x280}));
  EXPECT_EQ(groups[1].program, P::kDataRet);
  EXPECT_EQ(groups[1].offsets, (Offsets{0x200, 0x280, 0x100}));
  EXPECT_EQ(groups[2].program, P::kReadEntry);
  EXPECT_EQ(groups[2].offsets, Offsets{0x100});
  EXPECT_EQ(groups[3].program, P::kHandshakeEntry);
  EXPECT_EQ(groups[3].offsets, Offsets{0x500});
  EXPECT_EQ(groups[4].program, P::kHandshakeRet);
  EXPECT_TRUE(groups[4].retprobe);
  EXPECT_EQ(groups[4].offsets, Offsets{0x500});
  EXPECT_TRUE(Group({}).empty());
}

// The three lists of a role (the enum, kSslPrograms, SslProgramHandle)
// against the object the skeleton embeds: every uprobe program in it is
// exactly one role's, and each function's entry and return roles are entry
// and return programs. Opening the skeleton parses the object; it needs no
// privileges and loads nothing.
TEST(SslPlaces, RolesAreTheObjectsUprobePrograms) {
  waitscope_bpf* skel = waitscope_bpf__open();
  ASSERT_NE(skel, nullptr);
  EXPECT_EQ(SslProgramHandle(skel, P::kNone), nullptr);
  std::set<std::string> roles;  // program names
  for (SslProgram p : kSslPrograms) {
    const bpf_program* prog = SslProgramHandle(skel, p);
    ASSERT_NE(prog, nullptr) << static_cast<int>(p);
    EXPECT_TRUE(roles.insert(bpf_program__name(prog)).second)
        << bpf_program__name(prog) << " has two roles";
  }
  std::set<std::string> uprobes;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel->obj) {
    const std::string_view section = bpf_program__section_name(prog);
    if (section.starts_with("uprobe") || section.starts_with("uretprobe")) {
      uprobes.insert(bpf_program__name(prog));
    }
  }
  EXPECT_EQ(roles, uprobes) << "a uprobe program of bpf/openssl.bpf.h has no role, or a role "
                               "is no uprobe program";
  const auto section_of = [&](SslProgram p) {
    return std::string_view(bpf_program__section_name(SslProgramHandle(skel, p)));
  };
  for (SslFunction f :
       {SslFunction::kRead, SslFunction::kReadEx, SslFunction::kWrite, SslFunction::kWriteEx,
        SslFunction::kReadWorker, SslFunction::kWriteWorker, SslFunction::kDoHandshake,
        SslFunction::kConnect, SslFunction::kAccept, SslFunction::kFree}) {
    const SslEntryAndReturn programs = SslProgramsOf(f);
    EXPECT_EQ(section_of(programs.entry), "uprobe") << static_cast<int>(f);
    if (programs.ret != P::kNone) {
      EXPECT_EQ(section_of(programs.ret), "uretprobe") << static_cast<int>(f);
    }
  }
  waitscope_bpf__destroy(skel);
}

}  // namespace
}  // namespace waitscope
