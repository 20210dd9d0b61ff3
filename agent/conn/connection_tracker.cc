#include "conn/connection_tracker.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "aggregate/wait_target.h"
#include "loader/event_read.h"
#include "protocols/detect.h"
#include "waitscope/bpf/openssl.h"

namespace waitscope {
namespace {

constexpr std::size_t kDetectBytes = 512;        // looked at per direction to detect the protocol
constexpr std::size_t kMaxPendingBytes = 65536;  // held before giving up on detection

// The role of this process if its connection starts with a TLS ClientHello
// (the client's first bytes; either side's while the role is unknown).
std::optional<std::uint8_t> TlsRole(const Connection& c) {
  using protocols::tls::LooksLikeTlsClientHello;
  const bool we_sent = LooksLikeTlsClientHello(c.egress.first_bytes);
  const bool we_received = LooksLikeTlsClientHello(c.ingress.first_bytes);
  if (we_sent && c.role != WS_ROLE_SERVER) return WS_ROLE_CLIENT;
  if (we_received && c.role != WS_ROLE_CLIENT) return WS_ROLE_SERVER;
  return std::nullopt;
}

// The start of a TLS record too short to judge yet (handshake type 0x16, major
// version 3).
bool MaybeTlsHeader(const std::string& first) {
  return !first.empty() && first.size() < 6 && first[0] == 0x16 &&
         (first.size() < 2 || first[1] == 0x03);
}

// The report's protocol name: TLS whose plaintext we cannot read is "tls".
std::string ReportProtocol(const Connection& c) {
  if (c.protocol == protocols::Protocol::kUnknown && c.tls) return "tls";
  return std::string(protocols::ProtocolName(c.protocol));
}

bool IsServer(const Connection& c) {
  return c.role == WS_ROLE_SERVER;
}

// Bytes this process sent are requests when it is the client.
protocols::Direction DirectionOf(const Connection& c, bool egress) {
  const bool client = c.role != WS_ROLE_SERVER;
  return egress == client ? protocols::Direction::kRequest : protocols::Direction::kResponse;
}

}  // namespace

void ConnectionTracker::OnEvent(std::span<const std::byte> data) {
  ++stats_.events;
  ws_event_header hdr{};
  if (!ReadEvent(data, hdr)) {
    ++stats_.bad_events;
    return;
  }
  switch (hdr.type) {
    case WS_EV_SOCK_OPEN: {
      ws_sock_open_event ev{};
      if (!ReadEvent(data, ev)) break;
      OnOpen(ev);
      return;
    }
    case WS_EV_SOCK_CLOSE: {
      ws_sock_close_event ev{};
      if (!ReadEvent(data, ev)) break;
      OnClose(ev);
      return;
    }
    case WS_EV_SOCK_DATA:
    case WS_EV_SSL_DATA: {
      if (data.size() < WS_SOCK_DATA_HEADER_SIZE) break;
      ws_sock_data_event ev;
      std::memcpy(&ev, data.data(), WS_SOCK_DATA_HEADER_SIZE);
      const std::size_t available = data.size() - WS_SOCK_DATA_HEADER_SIZE;
      if (ev.captured > available || ev.captured > WS_MAX_CAPTURE) break;
      const auto payload = data.subspan(WS_SOCK_DATA_HEADER_SIZE, ev.captured);
      if (hdr.type == WS_EV_SSL_DATA) {
        OnPlaintext(ev, payload);
      } else {
        OnData(ev, payload);
      }
      return;
    }
    case WS_EV_SSL_HANDSHAKE:
      // The record layer already gives version, resumption and timing for
      // every TLS library; OpenSSL's own call timing adds nothing yet.
      return;
    case WS_EV_TCP_CONNECT: {
      ws_tcp_connect_event ev{};
      if (!ReadEvent(data, ev)) break;
      OnConnectLatency(ev);
      return;
    }
    default:
      break;
  }
  ++stats_.bad_events;
}

void ConnectionTracker::OnOpen(const ws_sock_open_event& ev) {
  Connection& c = conns_[ev.conn_id];
  c.conn_id = ev.conn_id;
  c.pid = ev.hdr.tgid;
  c.fd = ev.fd;
  c.role = ev.role;
  c.family = ev.family;
  c.sock = ev.sock;
  c.opened_ns = ev.hdr.ts_ns;
  if (ev.role != WS_ROLE_CLIENT) may_serve_pids_.insert(c.pid);
  c.local_port = ev.local_port;
  c.peer_port = ev.peer_port;
  if (ev.family == AF_INET || ev.family == AF_INET6) {
    c.local = FormatInetAddress(ev.family, ev.local_addr, ev.local_port);
    c.peer = FormatInetAddress(ev.family, ev.peer_addr, ev.peer_port);
  } else if (ev.family == AF_UNIX) {
    c.peer = FormatUnixAddress(
        std::string_view(ev.unix_path, strnlen(ev.unix_path, sizeof(ev.unix_path))),
        (ev.flags & WS_OPEN_UNIX_ABSTRACT) != 0);
    c.local = c.peer;
  }
  conn_by_sock_[ev.sock] = ev.conn_id;
  if (auto it = latency_by_sock_.find(ev.sock); it != latency_by_sock_.end()) {
    // A blocking connect() reports ESTABLISHED before the syscall returns.
    c.connect_ns = it->second;
    if (!c.peer.empty()) sink_.AddConnectLatency(c.pid, false, c.local, c.peer, it->second);
    latency_by_sock_.erase(it);
  }
}

void ConnectionTracker::OnConnectLatency(const ws_tcp_connect_event& ev) {
  if (auto by_sock = conn_by_sock_.find(ev.sock); by_sock != conn_by_sock_.end()) {
    auto it = conns_.find(by_sock->second);
    if (it != conns_.end() && it->second.pid == ev.hdr.tgid && !it->second.peer.empty()) {
      Connection& c = it->second;
      c.connect_ns = ev.latency_ns;
      sink_.AddConnectLatency(c.pid, false, c.local, c.peer, ev.latency_ns);
      return;
    }
  }
  // The open event is still to come (connect() has not returned yet).
  if (latency_by_sock_.size() < 65536) latency_by_sock_[ev.sock] = ev.latency_ns;
}

void ConnectionTracker::OnClose(const ws_sock_close_event& ev) {
  auto it = conns_.find(ev.conn_id);
  if (it == conns_.end()) return;
  if (ev.srtt_us) it->second.srtt_us = ev.srtt_us;
  it->second.retransmits = std::max(it->second.retransmits, ev.retransmits);
  it->second.resets = ev.resets_sent + ev.resets_received;
  Close(it->second, ev.hdr.ts_ns);
  Forget(it);
}

ConnectionTracker::ConnMap::iterator ConnectionTracker::Forget(ConnMap::iterator it) {
  if (auto by_sock = conn_by_sock_.find(it->second.sock);
      by_sock != conn_by_sock_.end() && by_sock->second == it->first) {
    conn_by_sock_.erase(by_sock);
  }
  return conns_.erase(it);
}

void ConnectionTracker::OnData(const ws_sock_data_event& ev, std::span<const std::byte> payload) {
  auto it = conns_.find(ev.conn_id);
  if (it == conns_.end()) {
    // Its open event was lost (ring buffer full): the bytes cannot be placed.
    ++stats_.unknown_conn;
    return;
  }
  Connection& c = it->second;
  if (ev.srtt_us) c.srtt_us = ev.srtt_us;
  c.retransmits = std::max(c.retransmits, ev.retransmits);
  const bool egress = ev.direction == WS_DIR_EGRESS;
  StreamState& s = egress ? c.egress : c.ingress;
  const std::string_view bytes(reinterpret_cast<const char*>(payload.data()), payload.size());

  if (ev.stream_pos > s.next_pos) {
    // Bytes between next_pos and stream_pos never reached us (dropped event).
    const std::uint64_t missing = ev.stream_pos - s.next_pos;
    stats_.gap_bytes += missing;
    if (c.tls) {
      c.tls->OnGap(DirectionOf(c, egress), missing);
    } else if (c.parser) {
      c.parser->OnGap(DirectionOf(c, egress), missing);
    }
  }
  s.next_pos = ev.stream_pos + ev.len;
  c.last_tid = ev.tid;
  if (!c.use_reported) ReportFirstUse(c, ev.tid);
  if (c.tls) {
    FeedTls(c, egress, bytes, ev.hdr.ts_ns, ev.tid);
  } else {
    Feed(c, egress, bytes, ev.hdr.ts_ns, ev.tid);
  }
  if (ev.captured < ev.len && !c.tls_capture_stopped) {
    // The syscall moved more than we copied: the tail is a gap.
    const std::uint64_t missing = ev.len - ev.captured;
    stats_.gap_bytes += missing;
    if (c.tls) {
      c.tls->OnGap(DirectionOf(c, egress), missing);
    } else if (c.parser) {
      c.parser->OnGap(DirectionOf(c, egress), missing);
    }
  }
}

void ConnectionTracker::OnPlaintext(const ws_sock_data_event& ev,
                                    std::span<const std::byte> payload) {
  ++stats_.plaintext_events;
  auto it = ev.conn_id ? conns_.find(ev.conn_id) : conns_.end();
  if (it == conns_.end()) {
    ++stats_.plaintext_unknown_conn;
    return;
  }
  Connection& c = it->second;
  if (!c.tls) StartTls(c);  // plaintext proves TLS even if we missed the hello
  c.plaintext_seen = true;
  const bool egress = ev.direction == WS_DIR_EGRESS;
  StreamState& s = egress ? c.plain_egress : c.plain_ingress;
  if (ev.stream_pos > s.next_pos) {
    const std::uint64_t missing = ev.stream_pos - s.next_pos;
    stats_.gap_bytes += missing;
    if (c.parser) c.parser->OnGap(DirectionOf(c, egress), missing);
  }
  s.next_pos = ev.stream_pos + ev.len;
  c.last_tid = ev.tid;
  const std::string_view bytes(reinterpret_cast<const char*>(payload.data()), payload.size());
  Feed(c, egress, bytes, ev.hdr.ts_ns, ev.tid);
  if (ev.captured < ev.len) {
    const std::uint64_t missing = ev.len - ev.captured;
    stats_.gap_bytes += missing;
    if (c.parser) c.parser->OnGap(DirectionOf(c, egress), missing);
  }
}

void ConnectionTracker::StartTls(Connection& c) {
  c.tls = std::make_unique<protocols::tls::HandshakeObserver>();
  // Whatever was held for detection was ciphertext: it goes to the observer,
  // and detection starts over on plaintext.
  std::vector<PendingChunk> pending = std::move(c.pending);
  c.pending.clear();
  c.pending_bytes = 0;
  c.egress.first_bytes.clear();
  c.ingress.first_bytes.clear();
  if (c.parser) {
    // A protocol that switched to TLS mid-stream (PostgreSQL SSLRequest):
    // keep its counts, and parse the plaintext afresh.
    closed_parse_errors_ += c.parser->stats().parse_errors;
    closed_exchanges_lost_ += c.parser->stats().exchanges_lost;
    c.parser.reset();
  }
  c.protocol_decided = false;
  if (tls_seen_) tls_seen_(c.pid);
  for (const PendingChunk& p : pending) FeedTls(c, p.egress, p.bytes, p.ts_ns, p.tid);
}

void ConnectionTracker::FeedTls(Connection& c, bool egress, std::string_view bytes,
                                std::uint64_t ts_ns, std::uint32_t tid) {
  if (c.tls_capture_stopped) return;
  c.tls->OnData(DirectionOf(c, egress), bytes, ts_ns);
  DrainTls(c, tid);
  if (c.tls->HandshakeDone() && stop_capture_) {
    // Ciphertext after the handshake tells us nothing: stop copying it
    // (plaintext from the uprobes is not affected).
    c.tls_capture_stopped = true;
    stop_capture_(c.pid, c.fd, c.conn_id, CopiedStream::kSocket);
  }
}

void ConnectionTracker::DrainTls(Connection& c, std::uint32_t tid) {
  if (!c.tls || c.peer.empty()) return;
  for (protocols::tls::Handshake& h : c.tls->TakeHandshakes()) {
    if (observer_) {
      observer_->OnTlsHandshake(ExchangeOrigin{c.pid, IsServer(c), c.peer, "tls", tid, c.conn_id},
                                h);
    }
    // Counted at close, when we know whether plaintext reached the parsers.
    c.tls_handshakes.push_back(std::move(h));
  }
}

void ConnectionTracker::ReportFirstUse(Connection& c, std::uint32_t tid) {
  c.use_reported = true;
  // Only connections this process opened while we watched: the connect is
  // part of whatever the thread was doing.
  if (!observer_ || c.role != WS_ROLE_CLIENT || c.opened_ns == 0 || c.peer.empty()) return;
  observer_->OnClientConnectionUse(ClientConnectionUse{
      c.pid, tid, c.conn_id, c.peer, std::string(protocols::ProtocolName(c.protocol)), c.opened_ns,
      c.connect_ns});
}

void ConnectionTracker::Feed(Connection& c, bool egress, std::string_view bytes,
                             std::uint64_t ts_ns, std::uint32_t tid) {
  if (!c.protocol_decided) {
    StreamState& s = egress ? c.egress : c.ingress;
    if (s.first_bytes.size() < kDetectBytes) {
      s.first_bytes.append(bytes.substr(0, kDetectBytes - s.first_bytes.size()));
    }
    // Hold the chunk until the protocol is known, then replay everything in
    // arrival order, so the parser sees the stream from its first byte.
    c.pending_bytes += bytes.size();
    c.pending.push_back(PendingChunk{egress, std::string(bytes), ts_ns, tid});
    if (!c.tls) {
      if (std::optional<std::uint8_t> role = TlsRole(c)) {
        c.role = *role;
        StartTls(c);
        return;
      }
      // A TLS server reads the 5-byte record header first: wait for the
      // rest before deciding it is not TLS, but not past the pending cap
      // (a side that sent "\x16" and nothing more must not hold the other
      // side's bytes forever).
      if ((MaybeTlsHeader(c.egress.first_bytes) || MaybeTlsHeader(c.ingress.first_bytes)) &&
          c.pending_bytes <= kMaxPendingBytes) {
        return;
      }
    }
    Decide(c);
    if (!c.protocol_decided && c.pending_bytes > kMaxPendingBytes) {
      c.protocol_decided = true;  // give up: whatever this is, it is not ours
      StopFeed(c);
    }
    if (!c.protocol_decided) return;
    std::vector<PendingChunk> pending = std::move(c.pending);
    c.pending.clear();
    c.egress.first_bytes.clear();
    c.ingress.first_bytes.clear();
    if (!c.parser) return;
    for (const PendingChunk& p : pending) {
      c.parser->OnData(DirectionOf(c, p.egress), p.bytes, p.ts_ns);
      Drain(c, p.tid);
    }
    return;
  }
  if (!c.parser) return;
  c.parser->OnData(DirectionOf(c, egress), bytes, ts_ns);
  Drain(c, tid);
  if (!c.tls && c.parser->encrypted()) StartTls(c);
}

void ConnectionTracker::Decide(Connection& c) {
  // Which side is the client? Known for connect/accept; for connections that
  // were open before tracing, try both readings of the bytes.
  auto try_role = [&](std::uint8_t role) -> protocols::Detection {
    const bool client = role != WS_ROLE_SERVER;
    const std::string& requests = client ? c.egress.first_bytes : c.ingress.first_bytes;
    const std::string& responses = client ? c.ingress.first_bytes : c.egress.first_bytes;
    const std::uint16_t server_port = client ? c.peer_port : c.local_port;
    return protocols::DetectProtocol(requests, responses, server_port);
  };
  protocols::Detection d;
  if (c.role != WS_ROLE_UNKNOWN) {
    d = try_role(c.role);
  } else {
    d = try_role(WS_ROLE_CLIENT);
    if (d.protocol != protocols::Protocol::kUnknown) {
      c.role = WS_ROLE_CLIENT;
    } else {
      protocols::Detection as_server = try_role(WS_ROLE_SERVER);
      if (as_server.protocol != protocols::Protocol::kUnknown) {
        c.role = WS_ROLE_SERVER;
        d = as_server;
      }
    }
  }
  if (!d.decided) return;
  c.protocol_decided = true;
  c.protocol = d.protocol;
  if (!c.peer.empty()) {
    if (c.in_report) {
      // Counted already (as TLS, or as the protocol that switched to TLS).
      if (c.protocol != protocols::Protocol::kUnknown)
        sink_.SetProtocol(c.pid, IsServer(c), c.local, c.peer, ReportProtocol(c));
    } else {
      sink_.AddConnection(c.pid, IsServer(c), c.local, c.peer, ReportProtocol(c));
      c.in_report = true;
    }
    // Only what classifies waits: a client's database servers. (A server's
    // peers are its clients, one ephemeral port each: kept, they grew the
    // map by every accepted connection for the agent's whole life.)
    if (!IsServer(c) && protocols::IsDatabase(c.protocol))
      peer_protocols_[{c.pid, c.peer}] = c.protocol;
  }
  c.parser = protocols::MakeParser(c.protocol, options_);
  if (!c.parser) StopFeed(c);
}

void ConnectionTracker::StopFeed(const Connection& c) {
  // Feed sees plaintext once a connection is TLS (ciphertext goes to
  // FeedTls): a TLS connection whose inner protocol we do not parse stops
  // the uprobes' copies; the socket's own copy stops after the handshake.
  if (stop_capture_) {
    stop_capture_(c.pid, c.fd, c.conn_id, c.tls ? CopiedStream::kPlaintext : CopiedStream::kSocket);
  }
}

void ConnectionTracker::Drain(Connection& c, std::uint32_t tid) {
  if (!c.parser) return;
  std::vector<protocols::Exchange>& done = exchanges_scratch_;
  c.parser->TakeExchanges(done);
  if (done.empty()) return;
  ExchangeOrigin origin{c.pid,
                        IsServer(c),
                        c.peer,
                        std::string(protocols::ProtocolName(c.protocol)),
                        tid,
                        c.conn_id,
                        may_serve_pids_.contains(c.pid)};
  for (const protocols::Exchange& ex : done) {
    if (!c.peer.empty()) sink_.AddExchange(origin, ex);
    if (observer_) observer_->OnExchange(origin, ex);
  }
}

void ConnectionTracker::Close(Connection& c, std::uint64_t ts_ns) {
  if (c.tls && ts_ns != 0) {
    c.tls->OnClose(ts_ns);
    DrainTls(c, c.last_tid);
  }
  for (const protocols::tls::Handshake& h : c.tls_handshakes) {
    sink_.AddTlsHandshake(ExchangeOrigin{c.pid, IsServer(c), c.peer, "tls", 0, c.conn_id}, h,
                          c.plaintext_seen);
  }
  c.tls_handshakes.clear();
  if (c.parser && ts_ns != 0) c.parser->OnClose(ts_ns);  // 0: still open at the end
  Drain(c, c.last_tid);
  if (c.peer.empty()) return;
  if (!c.in_report) {
    sink_.AddConnection(c.pid, IsServer(c), c.local, c.peer, ReportProtocol(c));
    c.in_report = true;
  }
  sink_.AddConnectionStats(c.pid, IsServer(c), c.local, c.peer, c.srtt_us, c.retransmits, c.resets);
  if (c.parser) {
    closed_parse_errors_ += c.parser->stats().parse_errors;
    closed_exchanges_lost_ += c.parser->stats().exchanges_lost;
  }
  if (c.tls) closed_parse_errors_ += c.tls->stats().parse_errors;
}

std::vector<std::int32_t> ConnectionTracker::CloseProcess(std::uint32_t pid, std::uint64_t ts_ns) {
  // A scan of every connection: processes exit far less often than they
  // send data, and an index by pid would be one more map to keep in step.
  std::vector<std::int32_t> fds;
  for (auto it = conns_.begin(); it != conns_.end();) {
    Connection& c = it->second;
    if (c.pid != pid) {
      ++it;
      continue;
    }
    Close(c, ts_ns);
    fds.push_back(c.fd);
    it = Forget(it);
  }
  may_serve_pids_.erase(pid);
  exited_pids_.insert(pid);
  return fds;
}

void ConnectionTracker::ForgetExitedPeers() {
  std::erase_if(peer_protocols_,
                [this](const auto& entry) { return exited_pids_.contains(entry.first.first); });
  exited_pids_.clear();
}

void ConnectionTracker::Finish() {
  // Still open at the end: nothing is complete that was not already.
  for (auto& [id, c] : conns_) Close(c, 0);
  conns_.clear();
  conn_by_sock_.clear();
}

std::uint64_t ConnectionTracker::exchanges_lost() const {
  std::uint64_t n = closed_exchanges_lost_;
  for (const auto& [id, c] : conns_) {
    if (c.parser) n += c.parser->stats().exchanges_lost;
  }
  return n;
}

std::uint64_t ConnectionTracker::parse_errors() const {
  std::uint64_t n = closed_parse_errors_;
  for (const auto& [id, c] : conns_) {
    if (c.parser) n += c.parser->stats().parse_errors;
    if (c.tls) n += c.tls->stats().parse_errors;
  }
  return n;
}

}  // namespace waitscope
