// Target selection: rule matching on made-up facts, /proc reading on this
// process and a child it starts, and the /proc walk.
#include "config/process_selector.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>

#include "symbols/read_file.h"

namespace waitscope::config {
namespace {

constexpr std::uint32_t kSelf = 4242;

ProcessFacts Facts(std::uint32_t pid, std::string comm, std::string exe, std::string cgroup) {
  return ProcessFacts{pid, std::move(comm), std::move(exe), std::move(cgroup)};
}

TargetRule Rule(std::string comm, std::string exe = "", std::string cgroup = "",
                std::string unit = "") {
  TargetRule rule;
  rule.comm = std::move(comm);
  rule.exe = std::move(exe);
  rule.cgroup = std::move(cgroup);
  rule.unit = std::move(unit);
  return rule;
}
TargetRule Comm(std::string glob) {
  return Rule(std::move(glob));
}
TargetRule Exe(std::string glob) {
  return Rule("", std::move(glob));
}
TargetRule Cgroup(std::string prefix) {
  return Rule("", "", std::move(prefix));
}
TargetRule Unit(std::string unit) {
  return Rule("", "", "", std::move(unit));
}

const ProcessFacts kPostgres = Facts(100, "postgres", "/usr/lib/postgresql/15/bin/postgres",
                                     "/system.slice/postgresql@15-main.service");
const ProcessFacts kGunicorn =
    Facts(200, "gunicorn", "/usr/bin/python3.11", "/system.slice/app.service");
const ProcessFacts kUserApp =
    Facts(300, "node", "/usr/bin/node",
          "/user.slice/user-1000.slice/user@1000.service/app.slice/web.service/worker");
const ProcessFacts kSshd = Facts(400, "sshd", "/usr/sbin/sshd", "/system.slice/ssh.service");

TEST(ProcessSelector, EmptyIncludeSelectsEverythingButSelf) {
  ProcessSelector all(TargetsConfig{}, kSelf);
  EXPECT_TRUE(all.SelectsAll());
  EXPECT_TRUE(all.Matches(kPostgres));
  EXPECT_TRUE(all.Matches(kSshd));
  EXPECT_FALSE(all.Matches(Facts(kSelf, "waitscope", "/usr/bin/waitscope", "/")));
}

TEST(ProcessSelector, CommAndExeGlobs) {
  ProcessSelector s(TargetsConfig{{Comm("post*"), Exe("/usr/bin/python3*")}, {}}, kSelf);
  EXPECT_FALSE(s.SelectsAll());
  EXPECT_TRUE(s.Matches(kPostgres));
  EXPECT_TRUE(s.Matches(kGunicorn));
  EXPECT_FALSE(s.Matches(kUserApp));
  ProcessSelector exact(TargetsConfig{{Comm("node")}, {}}, kSelf);
  EXPECT_TRUE(exact.Matches(kUserApp));
  EXPECT_FALSE(exact.Matches(Facts(9, "nodejs", "/usr/bin/node", "/")));
}

TEST(ProcessSelector, FieldsOfARuleAllMatch) {
  ProcessSelector s(TargetsConfig{{Rule("", "/usr/bin/*", "/system.slice")}, {}}, kSelf);
  EXPECT_TRUE(s.Matches(kGunicorn));
  EXPECT_FALSE(s.Matches(kUserApp));  // exe matches, cgroup does not
}

TEST(ProcessSelector, CgroupPrefixOnComponentBoundaries) {
  EXPECT_TRUE(CgroupUnder("/system.slice/app.service", "/system.slice"));
  EXPECT_TRUE(CgroupUnder("/system.slice/app.service", "/system.slice/"));
  EXPECT_TRUE(CgroupUnder("/system.slice", "/system.slice"));
  EXPECT_FALSE(CgroupUnder("/system.slicex/a", "/system.slice"));
  EXPECT_FALSE(CgroupUnder("", "/system.slice"));
  EXPECT_TRUE(CgroupUnder("/anything", "/"));
  EXPECT_FALSE(CgroupUnder("", "/"));
}

TEST(ProcessSelector, UnitInSystemAndUserSlices) {
  ProcessSelector s(TargetsConfig{{Unit("web.service"), Unit("postgresql@15-main.service")}, {}},
                    kSelf);
  EXPECT_TRUE(s.Matches(kUserApp));
  EXPECT_TRUE(s.Matches(kPostgres));
  EXPECT_FALSE(s.Matches(kGunicorn));
  EXPECT_FALSE(CgroupHasUnit("/system.slice/web.service.d", "web.service"));
  EXPECT_TRUE(CgroupHasUnit("/system.slice/web.service", "web.service"));
}

TEST(ProcessSelector, ExcludesWin) {
  ProcessSelector s(TargetsConfig{{Cgroup("/system.slice")}, {Comm("sshd"), Unit("app.service")}},
                    kSelf);
  EXPECT_TRUE(s.Matches(kPostgres));
  EXPECT_FALSE(s.Matches(kSshd));
  EXPECT_FALSE(s.Matches(kGunicorn));
  ProcessSelector only_exclude(TargetsConfig{{}, {Comm("sshd")}}, kSelf);
  EXPECT_FALSE(only_exclude.SelectsAll());
  EXPECT_TRUE(only_exclude.Matches(kUserApp));
  EXPECT_FALSE(only_exclude.Matches(kSshd));
}

TEST(ProcessSelector, SelfIsNeverSelected) {
  ProcessSelector s(TargetsConfig{{Comm("*")}, {}}, kSelf);
  EXPECT_FALSE(s.Matches(Facts(kSelf, "waitscope", "/usr/bin/waitscope", "/")));
  ProcessSelector real(TargetsConfig{});
  EXPECT_EQ(real.self_pid(), static_cast<std::uint32_t>(getpid()));
  EXPECT_FALSE(real.Matches(ReadProcessFacts(static_cast<std::uint32_t>(getpid()))));
}

TEST(CgroupPathFromProcFile, V2HybridAndV1) {
  EXPECT_EQ(CgroupPathFromProcFile("0::/system.slice/a.service\n"), "/system.slice/a.service");
  EXPECT_EQ(CgroupPathFromProcFile("12:memory:/x\n1:name=systemd:/system.slice/b.service\n"
                                   "0::/system.slice/b.service\n"),
            "/system.slice/b.service");
  EXPECT_EQ(CgroupPathFromProcFile("12:cpu,cpuacct:/foo\n1:name=systemd:/system.slice/c.service\n"),
            "/system.slice/c.service");
  EXPECT_EQ(CgroupPathFromProcFile("4:memory:/only\n"), "/only");
  EXPECT_EQ(CgroupPathFromProcFile("0::/odd:name\n"), "/odd:name");
  EXPECT_EQ(CgroupPathFromProcFile(""), "");
}

TEST(ReadProcessFacts, OwnProcess) {
  const auto pid = static_cast<std::uint32_t>(getpid());
  ProcessFacts facts = ReadProcessFacts(pid);
  EXPECT_EQ(facts.pid, pid);
  Result<std::string> comm = ReadWholeFile("/proc/self/comm");
  ASSERT_TRUE(comm.ok());
  EXPECT_EQ(facts.comm + "\n", *comm);
  std::array<char, 4096> exe{};
  ssize_t n = readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  ASSERT_GT(n, 0);
  EXPECT_EQ(facts.exe, std::string(exe.data(), static_cast<std::size_t>(n)));
  ASSERT_FALSE(facts.cgroup.empty());
  EXPECT_EQ(facts.cgroup.front(), '/');
}

TEST(ReadProcessFacts, GoneProcessHasEmptyFields) {
  // Above the kernel's pid_max limit (4194304), so never a live process.
  ProcessFacts facts = ReadProcessFacts(4'194'305);
  EXPECT_TRUE(facts.comm.empty());
  EXPECT_TRUE(facts.exe.empty());
  EXPECT_TRUE(facts.cgroup.empty());
}

// A forked child renamed to `name`, blocked on a pipe until destroyed.
class RenamedChild {
 public:
  explicit RenamedChild(const char* name) {
    int ready[2];
    int hold[2];
    if (pipe(ready) != 0 || pipe(hold) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(ready[0]);
      close(hold[1]);
      prctl(PR_SET_NAME, name, 0, 0, 0);
      char c = 1;
      if (write(ready[1], &c, 1) != 1) _exit(1);
      (void)!read(hold[0], &c, 1);  // returns when the parent closes its end
      _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    hold_ = hold[1];
    char c = 0;
    if (pid_ < 0 || read(ready[0], &c, 1) != 1) pid_ = -1;
    close(ready[0]);
  }
  ~RenamedChild() {
    if (hold_ >= 0) close(hold_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  RenamedChild(const RenamedChild&) = delete;
  RenamedChild& operator=(const RenamedChild&) = delete;
  std::uint32_t pid() const { return static_cast<std::uint32_t>(pid_); }
  bool ok() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int hold_ = -1;
};

TEST(ReadProcessFacts, ChildProcess) {
  RenamedChild child("wscfgfacts");
  ASSERT_TRUE(child.ok());
  ProcessFacts facts = ReadProcessFacts(child.pid());
  EXPECT_EQ(facts.comm, "wscfgfacts");
  EXPECT_EQ(facts.exe, ReadProcessFacts(static_cast<std::uint32_t>(getpid())).exe);
  EXPECT_EQ(facts.cgroup, ReadProcessFacts(static_cast<std::uint32_t>(getpid())).cgroup);
}

TEST(ScanProcesses, FindsAChildByCommAndSkipsSelf) {
  RenamedChild child("wscfgscan7");
  ASSERT_TRUE(child.ok());
  const auto self = static_cast<std::uint32_t>(getpid());
  ProcessSelector by_comm(TargetsConfig{{Comm("wscfgscan?")}, {}}, self);
  EXPECT_EQ(ScanProcesses(by_comm, self), std::vector<std::uint32_t>{child.pid()});

  ProcessSelector all(TargetsConfig{}, self);
  std::vector<std::uint32_t> pids = ScanProcesses(all, self);
  EXPECT_TRUE(std::is_sorted(pids.begin(), pids.end()));
  EXPECT_NE(std::find(pids.begin(), pids.end(), child.pid()), pids.end());
  EXPECT_EQ(std::find(pids.begin(), pids.end(), self), pids.end());
  // kthreadd (pid 2) is a kernel thread: no command line, never a target.
  EXPECT_EQ(std::find(pids.begin(), pids.end(), 2u), pids.end());

  ProcessSelector excluded(TargetsConfig{{}, {Comm("wscfgscan*")}}, self);
  pids = ScanProcesses(excluded, self);
  EXPECT_EQ(std::find(pids.begin(), pids.end(), child.pid()), pids.end());
}

}  // namespace
}  // namespace waitscope::config
