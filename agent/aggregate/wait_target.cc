#include "aggregate/wait_target.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace waitscope {

void NameTable::Add(const ws_name_event& ev) {
  std::string name;
  const std::uint32_t depth = std::min<std::uint32_t>(ev.depth, WS_PATH_MAX_DEPTH);
  auto component = [&](std::uint32_t i) {
    const char* c = ev.components[i];
    return std::string(c, strnlen(c, WS_PATH_COMPONENT_LEN));
  };
  if (ev.key.kind == WS_TARGET_UNIX) {
    name = FormatUnixAddress(depth == 0 ? std::string() : component(0),
                             (ev.flags & WS_NAME_ABSTRACT) != 0);
  } else {
    // Components arrive leaf first; a root dentry ("/") shows up as an
    // empty-ish "/" component which the join already covers.
    for (std::uint32_t i = depth; i-- > 0;) {
      std::string c = component(i);
      if (c.empty() || c == "/") continue;
      name += '/';
      name += c;
    }
    if (name.empty()) name = "/";
    if (ev.flags & WS_NAME_TRUNCATED) name = "..." + name;
  }
  names_[{ev.key.kind, ev.key.dev, ev.key.ino, ev.key.gen}] = std::move(name);
}

const std::string* NameTable::Find(std::uint32_t kind, std::uint32_t dev, std::uint64_t ino,
                                   std::uint32_t gen) const {
  auto it = names_.find({kind, dev, ino, gen});
  return it == names_.end() ? nullptr : &it->second;
}

std::string FormatInetAddress(std::uint16_t family, const std::uint8_t (&addr)[16],
                              std::uint16_t port) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  static constexpr std::uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family == AF_INET6 && std::memcmp(addr, kV4Mapped, sizeof(kV4Mapped)) == 0) {
    inet_ntop(AF_INET, addr + 12, buf.data(), buf.size());
    return std::string(buf.data()) + ":" + std::to_string(port);
  }
  if (family == AF_INET6) {
    inet_ntop(AF_INET6, addr, buf.data(), buf.size());
    return "[" + std::string(buf.data()) + "]:" + std::to_string(port);
  }
  inet_ntop(AF_INET, addr, buf.data(), buf.size());
  return std::string(buf.data()) + ":" + std::to_string(port);
}

std::string FormatTarget(const ws_target& t, const NameTable& names) {
  auto device = [&] {
    return "dev " + std::to_string(major(t.dev)) + ":" + std::to_string(minor(t.dev)) + " inode " +
           std::to_string(t.ino);
  };
  switch (t.kind) {
    case WS_TARGET_NONE:
      return "-";
    case WS_TARGET_FILE:
    case WS_TARGET_BLOCK:
    case WS_TARGET_CHAR: {
      const std::string* name = names.Find(t.kind, t.dev, t.ino, t.gen);
      return name ? *name : device();
    }
    case WS_TARGET_INET:
      return FormatInetAddress(t.family, t.addr, t.port);
    case WS_TARGET_LISTEN:
      return "listen " + FormatInetAddress(t.family, t.addr, t.port);
    case WS_TARGET_UNIX: {
      const std::string* name = names.Find(WS_TARGET_UNIX, 0, t.ino, 0);
      return name ? *name : "unix:(unnamed)";
    }
    case WS_TARGET_PIPE:
      return "pipe:[" + std::to_string(t.ino) + "]";
    case WS_TARGET_ANON: {
      const char* n = reinterpret_cast<const char*>(t.addr);
      return "anon:" + std::string(n, strnlen(n, sizeof(t.addr)));
    }
    case WS_TARGET_SOCKET:
      return "socket:family " + std::to_string(t.family);
    case WS_TARGET_BADFD:
      return "(closed fd)";
    default:
      return "(unknown target kind " + std::to_string(t.kind) + ")";
  }
}

WaitClass ClassifyWait(std::string_view sc, const ws_target& t) {
  if (sc == "futex" || sc == "flock" || sc == "semtimedop") return WaitClass::kLock;
  if (sc == "fcntl" && t.kind == WS_TARGET_FILE) return WaitClass::kLock;  // F_SETLKW
  if (sc == "nanosleep" || sc == "clock_nanosleep" || sc == "pause" || sc == "rt_sigsuspend" ||
      sc == "rt_sigtimedwait" || sc == "sched_yield") {
    return WaitClass::kSleep;
  }
  const bool readiness = sc == "poll" || sc == "ppoll" || sc == "select" || sc == "pselect6" ||
                         sc.starts_with("epoll_wait") || sc == "epoll_pwait" ||
                         sc == "epoll_pwait2" || sc == "io_getevents" || sc == "io_pgetevents" ||
                         sc == "io_uring_enter";
  // poll()/ppoll() on a single fd (the kernel then names it) is a wait on
  // that fd, a socket read with a timeout: classified by its target below.
  const bool single_fd_poll = (sc == "poll" || sc == "ppoll") && t.kind != WS_TARGET_NONE &&
                              t.kind != WS_TARGET_BADFD && t.kind != WS_TARGET_ANON;
  if (readiness && !single_fd_poll) return WaitClass::kPoll;
  // page_fault: a page read from a file or swap (or the mapping's lock).
  if (sc == "sync" || sc == "syncfs" || sc == "msync" || sc == "page_fault") {
    return WaitClass::kDisk;
  }
  switch (t.kind) {
    case WS_TARGET_FILE:
    case WS_TARGET_BLOCK:
      return WaitClass::kDisk;
    case WS_TARGET_INET:
    case WS_TARGET_LISTEN:
    case WS_TARGET_UNIX:
    case WS_TARGET_SOCKET:
      return WaitClass::kNet;
    case WS_TARGET_PIPE:
      return WaitClass::kPipe;
    case WS_TARGET_ANON:
      return WaitClass::kPoll;  // eventfd, timerfd, signalfd: waiting for a wakeup
    default:
      break;
  }
  // Path-based syscalls without an fd (openat, statx, unlinkat) block on the filesystem.
  if (sc == "openat" || sc == "openat2" || sc == "open" || sc == "newfstatat" || sc == "statx" ||
      sc == "stat" || sc == "lstat" || sc == "unlinkat" || sc == "unlink" || sc == "renameat2" ||
      sc == "rename" || sc == "mkdirat" || sc == "execve") {
    return WaitClass::kDisk;
  }
  return WaitClass::kOther;
}

}  // namespace waitscope
