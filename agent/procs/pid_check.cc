#include "procs/pid_check.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace waitscope {

bool ProcessExists(std::uint32_t pid) {
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

Status ValidateTracePids(const std::vector<std::uint32_t>& pids) {
  for (std::uint32_t pid : pids) {
    if (pid == 0) return Error{"-p 0 is not a process id"};
    if (pid == static_cast<std::uint32_t>(getpid())) return Error{"waitscope cannot trace itself"};
    if (!ProcessExists(pid)) return Error{"no process with PID " + std::to_string(pid)};
  }
  return Status::Ok();
}

}  // namespace waitscope
