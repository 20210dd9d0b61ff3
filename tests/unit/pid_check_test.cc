#include "procs/pid_check.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "symbols/read_file.h"

namespace waitscope {
namespace {

// A /proc/PID/stat line as the kernel writes it (52 fields), with these
// comm, state, flags and thread count.
std::string Stat(const std::string& comm, char state, std::uint64_t flags, int threads) {
  return "4242 (" + comm + ") " + state + " 1 4242 4242 0 -1 " + std::to_string(flags) +
         " 90 0 0 0 0 0 0 0 20 0 " + std::to_string(threads) +
         " 0 1234 12345678 300 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0"
         " 0 0 0 0 0 0 0 0\n";
}

TEST(ProcessKindFromStat, ReadsStateFlagsAndThreadsAfterTheLastParenthesis) {
  // A comm may hold spaces and parentheses: "a) Z (b" must not be read as state Z.
  EXPECT_EQ(ProcessKindFromStat(Stat("a) Z (b", 'S', 4194560, 1)), ProcessKind::kUser);
  EXPECT_EQ(ProcessKindFromStat(Stat("kthreadd", 'S', 2129984, 1)), ProcessKind::kKernelThread);
  EXPECT_EQ(ProcessKindFromStat(Stat("sleep", 'Z', 4227084, 1)), ProcessKind::kZombie);
  EXPECT_EQ(ProcessKindFromStat(Stat("sleep", 'X', 4227084, 1)), ProcessKind::kZombie);
  // The main thread called pthread_exit; three others still run.
  EXPECT_EQ(ProcessKindFromStat(Stat("server", 'Z', 4194560, 3)), ProcessKind::kUser);
}

TEST(ProcessKindFromStat, TextThatDoesNotParseIsUnknown) {
  for (const std::string& text :
       {std::string(), std::string("42"), std::string("42 (x"), std::string("42 (x) S 1 2 3"),
        std::string("42 (x) S 1 2 3 4 5 12ab 0 0 0 0 0 0 0 0 0 0 1"),
        Stat("x", 'S', 0, 1).replace(Stat("x", 'S', 0, 1).find(" S "), 3, " SS "),
        std::string("42 (x)      ")}) {
    EXPECT_EQ(ProcessKindFromStat(text), ProcessKind::kUnknown) << text;
  }
}

TEST(TgidFromStatus, ReadsTheTgidLine) {
  EXPECT_EQ(TgidFromStatus("Name:\tjava\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t8872\n"
                           "Ngid:\t0\nPid:\t8873\n"),
            8872u);
  EXPECT_EQ(TgidFromStatus("Tgid:\t1\n"), 1u);
  for (const char* text :
       {"", "Name:\tx\n", "Tgid:\t\n", "Tgid:\t12x\n", "Tgid:\t99999999999\n", "XTgid:\t5\n"}) {
    EXPECT_EQ(TgidFromStatus(text), std::nullopt) << text;
  }
}

TEST(ValidateTracePids, RefusesAZombie) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  // Not reaped: wait until it is a zombie (waitid with WNOWAIT leaves it so).
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  Result<TracePids> r = ResolveTracePids({static_cast<std::uint32_t>(child)});
  waitpid(child, nullptr, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("has exited"), std::string::npos) << r.error().message;
}

// A forked child running `body`, which tells the parent it is ready through
// a pipe (write_fd) and never returns. Killed and reaped when this goes out
// of scope, whichever assertion ended the test.
class ForkedChild {
 public:
  explicit ForkedChild(const std::function<void(int write_fd)>& body) {
    if (pipe(fds_) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      body(fds_[1]);
      _exit(0);
    }
  }
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;
  ~ForkedChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }

  bool started() const { return pid_ > 0; }
  std::uint32_t pid() const { return static_cast<std::uint32_t>(pid_); }
  // Reads what the child wrote when it was ready.
  template <typename T>
  bool Read(T* value) const {
    return read(fds_[0], value, sizeof(T)) == static_cast<ssize_t>(sizeof(T));
  }

 private:
  int fds_[2] = {-1, -1};
  pid_t pid_ = -1;
};

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
  Result<TracePids> r = ResolveTracePids({*kthread});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("kernel thread"), std::string::npos) << r.error().message;
}

TEST(ResolveTracePids, AcceptsARunningProcess) {
  Result<TracePids> r = ResolveTracePids({static_cast<std::uint32_t>(getppid())});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->pids, std::vector<std::uint32_t>{static_cast<std::uint32_t>(getppid())});
  EXPECT_TRUE(r->notes.empty());
}

TEST(ResolveTracePids, AThreadIdNamesItsProcessOnce) {
  // This test's own process is not traced: the thread is in the child.
  ForkedChild child([](int ready) {
    std::thread t([ready] {
      const auto tid = static_cast<std::uint32_t>(gettid());
      (void)!write(ready, &tid, sizeof(tid));
      pause();
    });
    pause();
  });
  ASSERT_TRUE(child.started());
  std::uint32_t tid = 0;
  ASSERT_TRUE(child.Read(&tid));
  Result<TracePids> r = ResolveTracePids({tid, child.pid()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->pids, std::vector<std::uint32_t>{child.pid()});
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_EQ(r->notes[0].rfind("-p " + std::to_string(tid) + " is a thread of PID " +
                                  std::to_string(child.pid()) + " (",
                              0),
            0u)
      << r->notes[0];
}

TEST(ResolveTracePids, AcceptsAProcessWhoseMainThreadExited) {
  ForkedChild child([](int ready) {
    std::thread([] { pause(); }).detach();
    const char byte = 1;
    (void)!write(ready, &byte, 1);
    // Ends this thread only (pthread_exit would unwind into gtest, which
    // catches the forced unwind); the process lives on in the other one.
    syscall(SYS_exit, 0);
  });
  ASSERT_TRUE(child.started());
  char byte = 0;
  ASSERT_TRUE(child.Read(&byte));
  // Wait (bounded) until the kernel shows the main thread as a zombie.
  const std::string stat_path = "/proc/" + std::to_string(child.pid()) + "/stat";
  bool main_is_zombie = false;
  for (int i = 0; i < 500 && !main_is_zombie; ++i) {
    Result<std::string> stat = ReadWholeFile(stat_path);
    main_is_zombie = stat.ok() && stat->find(") Z ") != std::string::npos;
    if (!main_is_zombie) usleep(10'000);
  }
  ASSERT_TRUE(main_is_zombie) << "the main thread never showed as a zombie";
  Result<TracePids> r = ResolveTracePids({child.pid()});
  EXPECT_TRUE(r.ok()) << r.error().message;
}

}  // namespace
}  // namespace waitscope
