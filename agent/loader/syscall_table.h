// Syscall numbers of the architecture waitscope was built for, mapped to
// names and to the facts the kernel side needs (does argument 0 hold a file
// descriptor?). Built from <sys/syscall.h>, so it follows the build target;
// syscalls missing from the table are reported as "syscall_<nr>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace waitscope {

struct SyscallInfo {
  std::string_view name;
  bool fd_arg0 = false;        // argument 0 is a file descriptor whose target classifies the wait
  std::uint8_t sock_kind = 0;  // enum ws_sock_syscall: what it means for a socket
  bool poll_fds = false;       // (struct pollfd *, nfds): a single fd's target classifies the wait
};

// Never null: unknown numbers give {"", false}.
const SyscallInfo& LookupSyscall(std::uint32_t nr);

std::string SyscallName(std::uint32_t nr);

// Highest syscall number in the table + 1.
std::uint32_t SyscallTableSize();

}  // namespace waitscope
