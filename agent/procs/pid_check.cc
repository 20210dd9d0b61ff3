#include "procs/pid_check.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>

#include "procs/process_table.h"
#include "report/display_text.h"
#include "symbols/read_file.h"

namespace waitscope {
namespace {

constexpr std::uint64_t kPfKthread = 0x00200000;  // include/linux/sched.h

}  // namespace

bool ProcessExists(std::uint32_t pid) {
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

ProcessKind ProcessKindFromStat(std::string_view stat) {
  const std::size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return ProcessKind::kUnknown;
  std::string_view rest = stat.substr(close + 1);
  // Fields 3 (state) to 9 (flags), counted from 1 at the pid.
  std::string_view fields[7];
  for (std::string_view& f : fields) {
    const std::size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) return ProcessKind::kUnknown;
    rest.remove_prefix(start);
    const std::size_t end = rest.find(' ');
    f = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  std::uint64_t flags = 0;
  for (char c : fields[6]) {
    if (c < '0' || c > '9') return ProcessKind::kUnknown;
    flags = flags * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (fields[6].empty() || fields[0].size() != 1) return ProcessKind::kUnknown;
  if (flags & kPfKthread) return ProcessKind::kKernelThread;
  if (fields[0] == "Z" || fields[0] == "X") return ProcessKind::kZombie;
  return ProcessKind::kUser;
}

Status ValidateTracePids(const std::vector<std::uint32_t>& pids) {
  for (std::uint32_t pid : pids) {
    if (pid == 0) return Error{"-p 0 is not a process id"};
    if (pid == static_cast<std::uint32_t>(getpid())) return Error{"waitscope cannot trace itself"};
    if (!ProcessExists(pid)) return Error{"no process with PID " + std::to_string(pid)};
    Result<std::string> stat = ReadWholeFile("/proc/" + std::to_string(pid) + "/stat");
    if (!stat.ok()) continue;  // exited just now, or hidden: the session says so later
    // The name is the process's own choice (prctl): no escape sequences reach the terminal.
    const std::string named =
        "PID " + std::to_string(pid) + " (" + SanitizeForTerminal(ReadComm(pid)) + ")";
    switch (ProcessKindFromStat(*stat)) {
      case ProcessKind::kKernelThread:
        return Error{named + " is a kernel thread: waitscope traces user-space processes"};
      case ProcessKind::kZombie:
        return Error{named + " has exited (its parent has not reaped it yet): nothing to trace"};
      case ProcessKind::kUser:
      case ProcessKind::kUnknown:
        break;
    }
  }
  return Status::Ok();
}

}  // namespace waitscope
