// SignalReader: the given signals are blocked for the process and read from a
// signalfd in the event loop, so no asynchronous handler runs and nothing
// (the terminal's mode in particular) has to be restored from inside one.
// The previous signal mask is restored on destruction. Not thread-safe;
// create it before starting other threads so they inherit the mask.
#pragma once

#include <signal.h>

#include <initializer_list>

namespace waitscope {

class SignalReader {
 public:
  explicit SignalReader(std::initializer_list<int> signals);
  ~SignalReader();
  SignalReader(const SignalReader&) = delete;
  SignalReader& operator=(const SignalReader&) = delete;

  // The next pending signal number, or 0; never blocks.
  int Next();

 private:
  sigset_t mask_{};
  sigset_t old_{};
  int fd_ = -1;
};

}  // namespace waitscope
