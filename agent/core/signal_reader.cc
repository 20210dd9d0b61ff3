#include "core/signal_reader.h"

#include <sys/signalfd.h>
#include <unistd.h>

namespace waitscope {

SignalReader::SignalReader(std::initializer_list<int> signals) {
  sigemptyset(&mask_);
  for (int sig : signals) sigaddset(&mask_, sig);
  sigprocmask(SIG_BLOCK, &mask_, &old_);
  fd_ = signalfd(-1, &mask_, SFD_NONBLOCK | SFD_CLOEXEC);
}

SignalReader::~SignalReader() {
  if (fd_ >= 0) close(fd_);
  sigprocmask(SIG_SETMASK, &old_, nullptr);
}

int SignalReader::Next() {
  signalfd_siginfo info{};
  if (fd_ < 0 || read(fd_, &info, sizeof(info)) != sizeof(info)) return 0;
  return static_cast<int>(info.ssi_signo);
}

}  // namespace waitscope
