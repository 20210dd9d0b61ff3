#include "procs/pid_check.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
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

// A whole non-empty run of decimal digits that fits in 64 bits.
bool ParseDecimal(std::string_view digits, std::uint64_t* out) {
  if (digits.empty() || digits.size() > 19) return false;
  std::uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *out = value;
  return true;
}

// Ok when every pid names a running user-space process other than waitscope
// itself; else one line naming the first bad pid.
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

}  // namespace

bool ProcessExists(std::uint32_t pid) {
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

ProcessKind ProcessKindFromStat(std::string_view stat) {
  const std::size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return ProcessKind::kUnknown;
  std::string_view rest = stat.substr(close + 1);
  // Fields 3 (state) to 20 (num_threads), counted from 1 at the pid.
  std::string_view fields[18];
  for (std::string_view& f : fields) {
    const std::size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) return ProcessKind::kUnknown;
    rest.remove_prefix(start);
    const std::size_t end = rest.find(' ');
    f = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  std::uint64_t flags = 0;
  std::uint64_t threads = 0;
  if (fields[0].size() != 1 || !ParseDecimal(fields[6], &flags) ||
      !ParseDecimal(fields[17], &threads)) {
    return ProcessKind::kUnknown;
  }
  if (flags & kPfKthread) return ProcessKind::kKernelThread;
  // A main thread that called pthread_exit shows Z while its other threads
  // run on: the process is alive.
  if ((fields[0] == "Z" || fields[0] == "X") && threads <= 1) return ProcessKind::kZombie;
  return ProcessKind::kUser;
}

std::optional<std::uint32_t> TgidFromStatus(std::string_view status) {
  constexpr std::string_view kKey = "Tgid:";
  std::size_t at = status.starts_with(kKey) ? 0 : status.find("\nTgid:");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = status.substr(at + (at == 0 ? 0 : 1) + kKey.size());
  rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
  std::uint64_t tgid = 0;
  if (!ParseDecimal(rest.substr(0, rest.find('\n')), &tgid) || tgid > UINT32_MAX) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(tgid);
}

Result<TracePids> ResolveTracePids(const std::vector<std::uint32_t>& given) {
  TracePids out;
  for (std::uint32_t id : given) {
    std::uint32_t pid = id;
    // /proc/TID exists for every thread (unlisted): its Tgid names the process.
    if (id != 0) {
      Result<std::string> status = ReadWholeFile("/proc/" + std::to_string(id) + "/status");
      const std::optional<std::uint32_t> tgid =
          status.ok() ? TgidFromStatus(*status) : std::nullopt;
      if (tgid && *tgid != id) {
        pid = *tgid;
        out.notes.push_back("-p " + std::to_string(id) + " is a thread of PID " +
                            std::to_string(pid) + " (" + SanitizeForTerminal(ReadComm(pid)) +
                            "): tracing that process");
      }
    }
    if (std::find(out.pids.begin(), out.pids.end(), pid) == out.pids.end()) out.pids.push_back(pid);
  }
  if (Status s = ValidateTracePids(out.pids); !s.ok()) return s.error();
  return out;
}

}  // namespace waitscope
