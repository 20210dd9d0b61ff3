// Kernel socket events (include/waitscope/bpf/sockets.h) as the ring buffer
// hands them to user space, built for the ConnectionTracker's tests and
// tools/bench/wire: IPv4 loopback connections, one data event per syscall.
#pragma once

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "waitscope/bpf/sockets.h"

namespace waitscope::testing {

using SockEvent = std::vector<std::byte>;

struct SockOpen {
  std::uint64_t conn_id = 0;
  std::uint32_t pid = 0;
  std::int32_t fd = 0;
  std::uint8_t role = WS_ROLE_CLIENT;
  std::uint16_t local_port = 0;
  std::uint16_t peer_port = 0;
};

inline SockEvent SockOpenEvent(const SockOpen& o) {
  ws_sock_open_event ev{};
  ev.hdr.type = WS_EV_SOCK_OPEN;
  ev.hdr.tgid = o.pid;
  ev.conn_id = o.conn_id;
  ev.fd = o.fd;
  ev.role = o.role;
  ev.family = AF_INET;
  ev.local_port = o.local_port;
  ev.peer_port = o.peer_port;
  const std::uint32_t lo = htonl(INADDR_LOOPBACK);
  std::memcpy(ev.local_addr, &lo, 4);
  std::memcpy(ev.peer_addr, &lo, 4);
  SockEvent out(sizeof(ev));
  std::memcpy(out.data(), &ev, sizeof(ev));
  return out;
}

struct SockData {
  std::uint64_t conn_id = 0;
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
  bool egress = false;
  std::uint64_t stream_pos = 0;
  std::string_view bytes;  // what was copied
  std::uint64_t ts_ns = 0;
  std::uint32_t len = 0;  // bytes the syscall moved; 0: bytes.size()
  std::uint32_t type = WS_EV_SOCK_DATA;
};

inline SockEvent SockDataEvent(const SockData& d) {
  ws_sock_data_event hdr{};
  hdr.hdr.type = d.type;
  hdr.hdr.tgid = d.pid;
  hdr.hdr.ts_ns = d.ts_ns;
  hdr.conn_id = d.conn_id;
  hdr.stream_pos = d.stream_pos;
  hdr.tid = d.tid;
  hdr.len = d.len ? d.len : static_cast<std::uint32_t>(d.bytes.size());
  hdr.captured = static_cast<std::uint32_t>(d.bytes.size());
  hdr.direction = d.egress ? WS_DIR_EGRESS : WS_DIR_INGRESS;
  SockEvent out(WS_SOCK_DATA_HEADER_SIZE + d.bytes.size());
  std::memcpy(out.data(), &hdr, WS_SOCK_DATA_HEADER_SIZE);
  std::memcpy(out.data() + WS_SOCK_DATA_HEADER_SIZE, d.bytes.data(), d.bytes.size());
  return out;
}

}  // namespace waitscope::testing
