// Turns the kernel's description of what a thread waited on (ws_target) into
// the report's `target` string and `class`. Pure functions: the rules are
// unit-tested without BPF.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "core/unix_address.h"
#include "core/wait_class.h"
#include "waitscope/bpf/waits.h"

namespace waitscope {

// Names of files and unix sockets, sent by the kernel once per object
// (WS_EV_NAME). Keyed like ws_name_key.
class NameTable {
 public:
  void Add(const ws_name_event& event);
  // The name of (kind, dev, ino, gen), or nullptr if the kernel never sent it.
  const std::string* Find(std::uint32_t kind, std::uint32_t dev, std::uint64_t ino,
                          std::uint32_t gen) const;

 private:
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint64_t, std::uint32_t>, std::string>
      names_;
};

// "ip:port" as the report contract writes addresses ("[::1]:5432" for IPv6,
// IPv4-mapped IPv6 shown as IPv4).
std::string FormatInetAddress(std::uint16_t family, const std::uint8_t (&addr)[16],
                              std::uint16_t port);

// Path, "ip:port", "listen ip:port", "unix:/path", "pipe:[ino]",
// "anon:[eventfd]", or "-" for waits without an object.
std::string FormatTarget(const ws_target& target, const NameTable& names);

// Why the thread waited: from the syscall first (futex is a lock whatever its
// fd-less arguments), then from what the fd is.
WaitClass ClassifyWait(std::string_view syscall, const ws_target& target);

}  // namespace waitscope
