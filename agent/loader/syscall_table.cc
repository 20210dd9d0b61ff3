#include "loader/syscall_table.h"

#include <sys/syscall.h>

#include <array>
#include <vector>

#include "waitscope/bpf/sockets.h"

namespace waitscope {
namespace {

struct Entry {
  long nr;
  SyscallInfo info;
};

// Syscalls that can block, plus common ones. FD: argument 0 is a file
// descriptor worth classifying; SOCK: also moves or manages socket data.
// clang-format off
#define FD(name) {SYS_##name, {#name, true, WS_SOCK_NONE}}
#define NOFD(name) {SYS_##name, {#name, false, WS_SOCK_NONE}}
#define POLLFDS(name) {SYS_##name, {#name, false, WS_SOCK_NONE, true}}
#define SOCK(name, kind) {SYS_##name, {#name, true, kind}}
const Entry kEntries[] = {
    SOCK(read, WS_SOCK_RECV), SOCK(write, WS_SOCK_SEND),
    SOCK(readv, WS_SOCK_RECVV), SOCK(writev, WS_SOCK_SENDV),
    SOCK(sendto, WS_SOCK_SEND), SOCK(recvfrom, WS_SOCK_RECVFROM),
    SOCK(sendmsg, WS_SOCK_SENDMSG), SOCK(recvmsg, WS_SOCK_RECVMSG),
    SOCK(sendmmsg, WS_SOCK_SENDMMSG), SOCK(recvmmsg, WS_SOCK_RECVMMSG),
    SOCK(connect, WS_SOCK_CONNECT), SOCK(accept, WS_SOCK_ACCEPT), SOCK(accept4, WS_SOCK_ACCEPT),
    SOCK(close, WS_SOCK_CLOSE), {SYS_dup3, {"dup3", false, WS_SOCK_DUP2}},
    FD(pread64), FD(pwrite64), FD(preadv), FD(pwritev), FD(preadv2), FD(pwritev2),
    FD(fsync), FD(fdatasync), FD(sync_file_range), FD(syncfs), FD(ftruncate), FD(fallocate),
    FD(flock), FD(ioctl), FD(fcntl), FD(getdents64), FD(shutdown),
    SOCK(sendfile, WS_SOCK_SENDFILE), SOCK(splice, WS_SOCK_SPLICE),
    FD(tee), FD(epoll_wait), FD(epoll_pwait), FD(epoll_pwait2), FD(epoll_ctl), FD(fstat),
    FD(lseek), FD(copy_file_range), FD(fadvise64), FD(readahead), FD(io_uring_enter),
    NOFD(futex), NOFD(nanosleep), NOFD(clock_nanosleep), POLLFDS(ppoll), NOFD(pselect6),
    NOFD(wait4), NOFD(waitid), NOFD(rt_sigtimedwait), NOFD(rt_sigsuspend), NOFD(sched_yield),
    NOFD(openat), NOFD(openat2), NOFD(newfstatat), NOFD(statx), NOFD(unlinkat), NOFD(renameat2),
    NOFD(mkdirat), NOFD(execve), NOFD(execveat), NOFD(exit), NOFD(exit_group), NOFD(clone),
    NOFD(clone3), NOFD(mmap), NOFD(munmap), NOFD(mprotect), NOFD(madvise), NOFD(brk),
    NOFD(sync), NOFD(msync), NOFD(socket), NOFD(getrandom), NOFD(io_getevents),
    NOFD(io_pgetevents), NOFD(semtimedop), NOFD(msgrcv), NOFD(msgsnd), NOFD(mq_timedreceive),
    NOFD(mq_timedsend), NOFD(set_robust_list), NOFD(rseq), NOFD(membarrier), NOFD(kill),
    NOFD(tgkill),
#if defined(SYS_dup2)
    {SYS_dup2, {"dup2", false, WS_SOCK_DUP2}},
#endif
#if defined(SYS_poll)
    POLLFDS(poll),
#endif
#if defined(SYS_select)
    NOFD(select),
#endif
#if defined(SYS_pause)
    NOFD(pause),
#endif
#if defined(SYS_epoll_wait_old)
    FD(epoll_wait_old),
#endif
#if defined(SYS_open)
    NOFD(open),
#endif
#if defined(SYS_stat)
    NOFD(stat), NOFD(lstat),
#endif
#if defined(SYS_fork)
    NOFD(fork), NOFD(vfork),
#endif
#if defined(SYS_rename)
    NOFD(rename), NOFD(unlink),
#endif
};
#undef FD
#undef NOFD
#undef POLLFDS
#undef SOCK
// clang-format on

const std::vector<SyscallInfo>& Table() {
  static const std::vector<SyscallInfo> table = [] {
    long max = 0;
    for (const Entry& e : kEntries) max = std::max(max, e.nr);
    std::vector<SyscallInfo> t(static_cast<std::size_t>(max) + 1);
    for (const Entry& e : kEntries) t[static_cast<std::size_t>(e.nr)] = e.info;
    return t;
  }();
  return table;
}

}  // namespace

const SyscallInfo& LookupSyscall(std::uint32_t nr) {
  static const SyscallInfo kUnknown{};
  const auto& t = Table();
  return nr < t.size() ? t[nr] : kUnknown;
}

std::string SyscallName(std::uint32_t nr) {
  // Not a syscall: the kernel's number for a wait in a page fault.
  if (nr == WS_SYSCALL_PAGE_FAULT) return "page_fault";
  const SyscallInfo& info = LookupSyscall(nr);
  if (!info.name.empty()) return std::string(info.name);
  return "syscall_" + std::to_string(nr);
}

std::uint32_t SyscallTableSize() {
  return static_cast<std::uint32_t>(Table().size());
}

}  // namespace waitscope
