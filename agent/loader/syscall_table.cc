#include "loader/syscall_table.h"

#include <sys/syscall.h>

#include <array>
#include <vector>

namespace waitscope {
namespace {

struct Entry {
  long nr;
  SyscallInfo info;
};

// Syscalls that can block, plus common ones. `true` marks fd-first calls.
#define FD(name)  \
  {               \
    SYS_##name, { \
#name, true \
    }             \
  }
#define NOFD(name) \
  {                \
    SYS_##name, {  \
#name, false \
    }              \
  }
const Entry kEntries[] = {
    FD(read),
    FD(write),
    FD(pread64),
    FD(pwrite64),
    FD(readv),
    FD(writev),
    FD(preadv),
    FD(pwritev),
    FD(preadv2),
    FD(pwritev2),
    FD(fsync),
    FD(fdatasync),
    FD(sync_file_range),
    FD(syncfs),
    FD(ftruncate),
    FD(fallocate),
    FD(flock),
    FD(ioctl),
    FD(fcntl),
    FD(getdents64),
    FD(sendto),
    FD(recvfrom),
    FD(sendmsg),
    FD(recvmsg),
    FD(sendmmsg),
    FD(recvmmsg),
    FD(connect),
    FD(accept),
    FD(accept4),
    FD(shutdown),
    FD(sendfile),
    FD(splice),
    FD(tee),
    FD(close),
    FD(epoll_wait),
    FD(epoll_pwait),
    FD(epoll_pwait2),
    FD(epoll_ctl),
    FD(fstat),
    FD(lseek),
    FD(copy_file_range),
    FD(fadvise64),
    FD(readahead),
    FD(io_uring_enter),
    NOFD(futex),
    NOFD(nanosleep),
    NOFD(clock_nanosleep),
    NOFD(ppoll),
    NOFD(pselect6),
    NOFD(wait4),
    NOFD(waitid),
    NOFD(rt_sigtimedwait),
    NOFD(rt_sigsuspend),
    NOFD(sched_yield),
    NOFD(openat),
    NOFD(openat2),
    NOFD(newfstatat),
    NOFD(statx),
    NOFD(unlinkat),
    NOFD(renameat2),
    NOFD(mkdirat),
    NOFD(execve),
    NOFD(execveat),
    NOFD(exit),
    NOFD(exit_group),
    NOFD(clone),
    NOFD(clone3),
    NOFD(mmap),
    NOFD(munmap),
    NOFD(mprotect),
    NOFD(madvise),
    NOFD(brk),
    NOFD(sync),
    NOFD(msync),
    NOFD(socket),
    NOFD(getrandom),
    NOFD(io_getevents),
    NOFD(io_pgetevents),
    NOFD(semtimedop),
    NOFD(msgrcv),
    NOFD(msgsnd),
    NOFD(mq_timedreceive),
    NOFD(mq_timedsend),
    NOFD(set_robust_list),
    NOFD(rseq),
    NOFD(membarrier),
    NOFD(kill),
    NOFD(tgkill),
#if defined(SYS_poll)
    NOFD(poll),
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
    NOFD(stat),
    NOFD(lstat),
#endif
#if defined(SYS_fork)
    NOFD(fork),
    NOFD(vfork),
#endif
#if defined(SYS_rename)
    NOFD(rename),
    NOFD(unlink),
#endif
};
#undef FD
#undef NOFD

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
  const SyscallInfo& info = LookupSyscall(nr);
  if (!info.name.empty()) return std::string(info.name);
  return "syscall_" + std::to_string(nr);
}

std::uint32_t SyscallTableSize() {
  return static_cast<std::uint32_t>(Table().size());
}

}  // namespace waitscope
