// Starts `waitscope record -- COMMAND` in two steps: the child is forked and
// parked before exec, so it can be traced from its very first instruction of
// the new image, and released once the probes are attached. A failed exec
// (no such file, not executable) is reported to the parent through a
// close-on-exec pipe as a clean error instead of a mysterious exit code.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace waitscope {

class ChildLauncher {
 public:
  // Forks; the child waits until Release(). argv[0] is looked up in PATH.
  static Result<ChildLauncher> Fork(const std::vector<std::string>& argv);

  ChildLauncher(ChildLauncher&& other) noexcept;
  ChildLauncher& operator=(ChildLauncher&&) = delete;
  ~ChildLauncher();

  pid_t pid() const { return pid_; }

  // Lets the child exec. Fails if exec failed (the child is then reaped).
  Status Release();
  // After Release failed because exec did: the status a shell gives such a
  // command, 127 for a program it cannot find and 126 for one it cannot run;
  // 0 otherwise.
  int ExecFailureExitCode() const;

  // Non-blocking: the exit status once the child has exited (reaps it).
  std::optional<int> TryWait();
  // Ends a command still running when the recording stops before it exits
  // (--duration, Ctrl-C, SIGTERM), as `perf record` does: SIGTERM, then
  // SIGKILL after `grace`; reaps it either way. Processes the command
  // started are not signalled. The status it ended with if it had to be
  // signalled; nullopt if it had already exited.
  static constexpr std::chrono::milliseconds kTerminateGrace{5000};
  std::optional<int> Terminate(std::chrono::milliseconds grace = kTerminateGrace);
  // Human description of the status TryWait returned ("exited with 3", "killed by SIGKILL").
  static std::string DescribeStatus(int status);
  // The status as a shell reports it ($?): the exit code, or 128 + the
  // number of the signal that killed the process.
  static int ShellExitCode(int status);

 private:
  ChildLauncher(pid_t pid, int go_fd, int exec_err_fd)
      : pid_(pid), go_fd_(go_fd), exec_err_fd_(exec_err_fd) {}

  pid_t pid_ = -1;
  int go_fd_ = -1;        // parent writes one byte: "exec now"
  int exec_err_fd_ = -1;  // child writes errno if exec fails; EOF means exec succeeded
  bool reaped_ = false;
  int exec_errno_ = 0;  // why exec failed, once Release read it
  std::string program_;
};

}  // namespace waitscope
