#include "aggregate/wait_target.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#include <cstring>

namespace waitscope {
namespace {

ws_name_event PathEvent(std::uint32_t kind, std::uint32_t dev, std::uint64_t ino,
                        std::initializer_list<const char*> leaf_first, std::uint32_t flags = 0,
                        std::uint32_t gen = 0) {
  ws_name_event ev{};
  ev.key.kind = kind;
  ev.key.dev = dev;
  ev.key.ino = ino;
  ev.key.gen = gen;
  ev.flags = flags;
  for (const char* c : leaf_first) {
    std::strncpy(ev.components[ev.depth], c, WS_PATH_COMPONENT_LEN - 1);
    ++ev.depth;
  }
  return ev;
}

ws_target Inet(std::uint16_t family, std::initializer_list<std::uint8_t> addr, std::uint16_t port,
               std::uint8_t kind = WS_TARGET_INET) {
  ws_target t{};
  t.kind = kind;
  t.family = family;
  t.port = port;
  std::size_t i = 0;
  for (std::uint8_t b : addr) t.addr[i++] = b;
  return t;
}

TEST(NameTable, JoinsComponentsRootFirst) {
  NameTable names;
  names.Add(PathEvent(WS_TARGET_FILE, 8, 42, {"journal.log", "data", "var"}));
  const std::string* name = names.Find(WS_TARGET_FILE, 8, 42, 0);
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(*name, "/var/data/journal.log");
  EXPECT_EQ(names.Find(WS_TARGET_FILE, 8, 43, 0), nullptr);
}

// ext4 gives a new file the inode number of the file deleted just before:
// the generation tells them apart, and each keeps its own name.
TEST(NameTable, AReusedInodeNumberIsANewFile) {
  NameTable names;
  names.Add(PathEvent(WS_TARGET_FILE, 8, 42, {"old.log"}, 0, 1111));
  names.Add(PathEvent(WS_TARGET_FILE, 8, 42, {"new.log"}, 0, 2222));
  ws_target old_file{};
  old_file.kind = WS_TARGET_FILE;
  old_file.dev = 8;
  old_file.ino = 42;
  old_file.gen = 1111;
  ws_target new_file = old_file;
  new_file.gen = 2222;
  EXPECT_EQ(FormatTarget(old_file, names), "/old.log");
  EXPECT_EQ(FormatTarget(new_file, names), "/new.log");
  new_file.gen = 3333;  // its name never arrived
  EXPECT_EQ(FormatTarget(new_file, names), "dev 0:8 inode 42");
}

TEST(NameTable, MarksTruncatedPaths) {
  NameTable names;
  names.Add(PathEvent(WS_TARGET_FILE, 1, 2, {"f", "deep"}, WS_NAME_TRUNCATED));
  EXPECT_EQ(*names.Find(WS_TARGET_FILE, 1, 2, 0), ".../deep/f");
}

TEST(NameTable, RootDentryAloneIsSlash) {
  NameTable names;
  names.Add(PathEvent(WS_TARGET_FILE, 1, 2, {"/"}));
  EXPECT_EQ(*names.Find(WS_TARGET_FILE, 1, 2, 0), "/");
}

TEST(NameTable, UnixSocketsKeepAbstractMarker) {
  NameTable names;
  names.Add(PathEvent(WS_TARGET_UNIX, 0, 7, {"/run/postgresql/.s.PGSQL.5432"}));
  names.Add(PathEvent(WS_TARGET_UNIX, 0, 8, {"dbus-abc"}, WS_NAME_ABSTRACT));
  EXPECT_EQ(*names.Find(WS_TARGET_UNIX, 0, 7, 0), "unix:/run/postgresql/.s.PGSQL.5432");
  EXPECT_EQ(*names.Find(WS_TARGET_UNIX, 0, 8, 0), "unix:@dbus-abc");
}

TEST(FormatInetAddress, FollowsTheReportContract) {
  EXPECT_EQ(FormatTarget(Inet(AF_INET, {127, 0, 0, 1}, 5432), NameTable()), "127.0.0.1:5432");
  EXPECT_EQ(FormatTarget(Inet(AF_INET6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 6379),
                         NameTable()),
            "[::1]:6379");
  // IPv4-mapped IPv6 peers are shown as the IPv4 address a person typed.
  EXPECT_EQ(
      FormatTarget(Inet(AF_INET6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3}, 80),
                   NameTable()),
      "10.1.2.3:80");
  EXPECT_EQ(FormatTarget(Inet(AF_INET, {0, 0, 0, 0}, 8080, WS_TARGET_LISTEN), NameTable()),
            "listen 0.0.0.0:8080");
}

TEST(FormatTarget, EveryKindHasAReadableName) {
  NameTable names;
  ws_target file{};
  file.kind = WS_TARGET_FILE;
  file.dev = makedev(8, 1);
  file.ino = 99;
  EXPECT_EQ(FormatTarget(file, names), "dev 8:1 inode 99");  // name never arrived
  names.Add(PathEvent(WS_TARGET_FILE, file.dev, 99, {"x"}));
  EXPECT_EQ(FormatTarget(file, names), "/x");

  ws_target pipe{};
  pipe.kind = WS_TARGET_PIPE;
  pipe.ino = 1234;
  EXPECT_EQ(FormatTarget(pipe, names), "pipe:[1234]");

  ws_target anon{};
  anon.kind = WS_TARGET_ANON;
  std::memcpy(anon.addr, "[eventfd]", 9);
  EXPECT_EQ(FormatTarget(anon, names), "anon:[eventfd]");

  // A name filling all 16 bytes has no NUL and must not be over-read.
  std::memcpy(anon.addr, "0123456789abcdef", 16);
  EXPECT_EQ(FormatTarget(anon, names), "anon:0123456789abcdef");

  ws_target none{};
  EXPECT_EQ(FormatTarget(none, names), "-");
  ws_target bad{};
  bad.kind = WS_TARGET_BADFD;
  EXPECT_EQ(FormatTarget(bad, names), "(closed fd)");
  ws_target unknown{};
  unknown.kind = 200;
  EXPECT_EQ(FormatTarget(unknown, names), "(unknown target kind 200)");
}

TEST(ClassifyWait, SyscallDecidesBeforeTheFd) {
  ws_target none{};
  EXPECT_EQ(ClassifyWait("futex", none), WaitClass::kLock);
  EXPECT_EQ(ClassifyWait("clock_nanosleep", none), WaitClass::kSleep);
  EXPECT_EQ(ClassifyWait("nanosleep", none), WaitClass::kSleep);
  EXPECT_EQ(ClassifyWait("epoll_wait", none), WaitClass::kPoll);
  EXPECT_EQ(ClassifyWait("poll", none), WaitClass::kPoll);
  EXPECT_EQ(ClassifyWait("openat", none), WaitClass::kDisk);
  EXPECT_EQ(ClassifyWait("page_fault", none), WaitClass::kDisk);
  EXPECT_EQ(ClassifyWait("wait4", none), WaitClass::kOther);

  ws_target sock = Inet(AF_INET, {127, 0, 0, 1}, 80);
  EXPECT_EQ(ClassifyWait("read", sock), WaitClass::kNet);
  EXPECT_EQ(ClassifyWait("epoll_wait", sock), WaitClass::kPoll);
  // poll() on one socket (a read with a timeout) waits on that socket.
  EXPECT_EQ(ClassifyWait("poll", sock), WaitClass::kNet);
  EXPECT_EQ(ClassifyWait("ppoll", sock), WaitClass::kNet);
  EXPECT_EQ(ClassifyWait("select", sock), WaitClass::kPoll);

  ws_target file{};
  file.kind = WS_TARGET_FILE;
  EXPECT_EQ(ClassifyWait("fsync", file), WaitClass::kDisk);
  EXPECT_EQ(ClassifyWait("flock", file), WaitClass::kLock);

  ws_target pipe{};
  pipe.kind = WS_TARGET_PIPE;
  EXPECT_EQ(ClassifyWait("read", pipe), WaitClass::kPipe);

  ws_target anon{};
  anon.kind = WS_TARGET_ANON;
  EXPECT_EQ(ClassifyWait("read", anon), WaitClass::kPoll);

  ws_target tty{};
  tty.kind = WS_TARGET_CHAR;
  EXPECT_EQ(ClassifyWait("read", tty), WaitClass::kOther);
}

}  // namespace
}  // namespace waitscope
