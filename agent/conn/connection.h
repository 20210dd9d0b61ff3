// One traced connection as user space follows it: identity and addresses
// from the kernel's open event, stream reassembly state per direction, the
// detected protocol and its parser.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocols/common/connection_parser.h"
#include "protocols/common/exchange.h"
#include "protocols/tls/handshake_observer.h"
#include "waitscope/bpf/sockets.h"

namespace waitscope {

struct StreamState {
  std::uint64_t next_pos = 0;  // stream offset of the next byte we expect
  std::string first_bytes;     // kept until the protocol is decided (bounded)
};

struct PendingChunk {
  bool egress = false;
  std::string bytes;
  std::uint64_t ts_ns = 0;
  std::uint32_t tid = 0;
};

struct Connection {
  std::uint64_t conn_id = 0;
  std::uint32_t pid = 0;
  std::int32_t fd = -1;
  std::uint8_t role = WS_ROLE_UNKNOWN;  // enum ws_sock_role; may be inferred later
  std::uint16_t family = 0;
  std::string local;  // "ip:port"
  std::string peer;
  std::uint16_t local_port = 0;
  std::uint16_t peer_port = 0;
  std::uint64_t sock = 0;
  std::uint64_t opened_ns = 0;

  protocols::Protocol protocol = protocols::Protocol::kUnknown;
  bool protocol_decided = false;
  std::unique_ptr<protocols::ConnectionParser> parser;
  StreamState egress;
  StreamState ingress;
  std::vector<PendingChunk> pending;  // bytes seen before the protocol was decided
  std::size_t pending_bytes = 0;

  // Set once the connection speaks TLS: its socket bytes go here and only
  // plaintext from the OpenSSL uprobes reaches detection and `parser`.
  std::unique_ptr<protocols::tls::HandshakeObserver> tls;
  bool tls_capture_stopped = false;
  std::vector<protocols::tls::Handshake> tls_handshakes;  // reported at close
  StreamState plain_egress;  // plaintext stream positions (uprobe events)
  StreamState plain_ingress;
  bool plaintext_seen = false;

  std::uint32_t srtt_us = 0;
  std::uint32_t retransmits = 0;
  std::uint32_t resets = 0;      // sent + received
  bool in_report = false;        // counted in the `connections` aggregate already
  std::uint32_t last_tid = 0;    // thread of the latest chunk (exchanges completed at close)
  std::uint64_t connect_ns = 0;  // SYN_SENT -> ESTABLISHED, when seen
  bool use_reported = false;     // WireObserver told of its first use
};

}  // namespace waitscope
