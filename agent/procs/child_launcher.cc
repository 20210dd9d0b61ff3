#include "procs/child_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace waitscope {

Result<ChildLauncher> ChildLauncher::Fork(const std::vector<std::string>& argv) {
  if (argv.empty()) return Error{"no command given after --"};
  int go[2];
  int err[2];
  if (pipe2(go, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    return Error{std::string("cannot create pipes to start the command: ") + std::strerror(errno)};
  }
  // Build argv before fork: the child must not allocate.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return Error{std::string("cannot fork: ") + std::strerror(errno)};
  if (pid == 0) {
    close(go[1]);
    close(err[0]);
    // The command must not inherit waitscope's blocked or ignored signals.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    char byte = 0;
    ssize_t n;
    do {
      n = read(go[0], &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);  // the parent gave up
    execvp(args[0], args.data());
    int e = errno;
    ssize_t ignored = write(err[1], &e, sizeof(e));
    (void)ignored;
    _exit(127);
  }
  close(go[0]);
  close(err[1]);
  ChildLauncher launcher(pid, go[1], err[0]);
  launcher.program_ = argv[0];
  return launcher;
}

ChildLauncher::ChildLauncher(ChildLauncher&& o) noexcept
    : pid_(o.pid_),
      go_fd_(o.go_fd_),
      exec_err_fd_(o.exec_err_fd_),
      reaped_(o.reaped_),
      program_(std::move(o.program_)) {
  o.pid_ = -1;
  o.go_fd_ = -1;
  o.exec_err_fd_ = -1;
  o.reaped_ = true;
}

ChildLauncher::~ChildLauncher() {
  if (go_fd_ >= 0) close(go_fd_);  // a parked child reads EOF and exits
  if (exec_err_fd_ >= 0) close(exec_err_fd_);
  // A command never outlives its recording, whichever way that ends (a child
  // that never ran has just read EOF and exits at once).
  Terminate(kTerminateGrace);
}

Status ChildLauncher::Release() {
  char go = 1;
  if (write(go_fd_, &go, 1) != 1) {
    return Error{std::string("cannot start the command: ") + std::strerror(errno)};
  }
  close(go_fd_);
  go_fd_ = -1;
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(exec_err_fd_, &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(exec_err_fd_);
  exec_err_fd_ = -1;
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    exec_errno_ = child_errno;
    return Error{"cannot run '" + program_ + "': " + std::strerror(child_errno)};
  }
  return Status::Ok();
}

int ChildLauncher::ExecFailureExitCode() const {
  if (exec_errno_ == 0) return 0;
  return exec_errno_ == ENOENT ? 127 : 126;
}

std::optional<int> ChildLauncher::TryWait() {
  if (reaped_ || pid_ <= 0) return std::nullopt;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return std::nullopt;
  reaped_ = true;
  return status;
}

std::optional<int> ChildLauncher::Terminate(std::chrono::milliseconds grace) {
  if (reaped_ || pid_ <= 0 || TryWait()) return std::nullopt;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<int> status = TryWait()) return status;
    usleep(10'000);
  }
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  return status;
}

std::string ChildLauncher::DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return std::string("was killed by SIG") + (name ? name : std::to_string(WTERMSIG(status)));
  }
  return "ended with status " + std::to_string(status);
}

int ChildLauncher::ShellExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;  // stopped or continued: TryWait reports neither, but never claim success
}

}  // namespace waitscope
