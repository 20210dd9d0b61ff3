#include "procs/pid_check.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "symbols/read_file.h"

namespace waitscope {
namespace {

TEST(ProcessKindFromStat, ReadsStateAndFlagsAfterTheLastParenthesis) {
  // A comm may hold spaces and parentheses: "a) Z (b" must not be read as state Z.
  EXPECT_EQ(ProcessKindFromStat("4242 (a) Z (b) S 1 4242 4242 0 -1 4194560 90 0 0 0"),
            ProcessKind::kUser);
  EXPECT_EQ(ProcessKindFromStat("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0"),
            ProcessKind::kKernelThread);
  EXPECT_EQ(ProcessKindFromStat("77 (sleep) Z 76 76 1 0 -1 4227084 93 0 0 0"),
            ProcessKind::kZombie);
  EXPECT_EQ(ProcessKindFromStat("77 (sleep) X 76 76 1 0 -1 4227084 93 0 0 0"),
            ProcessKind::kZombie);
}

TEST(ProcessKindFromStat, TextThatDoesNotParseIsUnknown) {
  for (const char* text : {"", "42", "42 (x", "42 (x) S 1 2 3", "42 (x) S 1 2 3 4 5 12ab",
                           "42 (x) SS 1 2 3 4 5 0", "42 (x)      "}) {
    EXPECT_EQ(ProcessKindFromStat(text), ProcessKind::kUnknown) << text;
  }
}

TEST(ValidateTracePids, RefusesAZombie) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  // Not reaped: wait until it is a zombie (waitid with WNOWAIT leaves it so).
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  Status s = ValidateTracePids({static_cast<std::uint32_t>(child)});
  waitpid(child, nullptr, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("has exited"), std::string::npos) << s.error().message;
}

std::optional<std::uint32_t> AnyKernelThread() {
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return std::nullopt;
  std::optional<std::uint32_t> found;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const unsigned long pid = std::strtoul(e->d_name, &end, 10);
    if (pid == 0 || *end != '\0') continue;
    Result<std::string> stat = ReadWholeFile(std::string("/proc/") + e->d_name + "/stat");
    if (stat.ok() && ProcessKindFromStat(*stat) == ProcessKind::kKernelThread) {
      found = static_cast<std::uint32_t>(pid);
      break;
    }
  }
  closedir(dir);
  return found;
}

TEST(ValidateTracePids, RefusesAKernelThread) {
  const std::optional<std::uint32_t> kthread = AnyKernelThread();
  if (!kthread) GTEST_SKIP() << "no kernel thread is visible in this PID namespace";
  Status s = ValidateTracePids({*kthread});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("kernel thread"), std::string::npos) << s.error().message;
}

TEST(ValidateTracePids, AcceptsARunningProcess) {
  EXPECT_TRUE(ValidateTracePids({static_cast<std::uint32_t>(getppid())}).ok());
}

}  // namespace
}  // namespace waitscope
