// ConnectionTracker consumes bpf/sockets.bpf.h's events: it keeps the table
// of live connections, reassembles each direction's byte stream (marking
// gaps where the kernel dropped or truncated bytes, so parsers resynchronise
// instead of misparsing), detects the protocol, feeds the parser, and hands
// every completed exchange to the WireAggregator.
//
// Not thread-safe; used from the recording's event loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "aggregate/wire_aggregator.h"
#include "conn/connection.h"
#include "conn/wire_observer.h"
#include "protocols/common/exchange.h"

namespace waitscope {

struct TrackerStats {
  std::uint64_t events = 0;
  std::uint64_t bad_events = 0;    // short or unknown events
  std::uint64_t unknown_conn = 0;  // data for a connection we never saw open
  std::uint64_t gap_bytes = 0;     // bytes the parsers were told are missing
  std::uint64_t plaintext_events = 0;
  std::uint64_t plaintext_unknown_conn = 0;  // plaintext of an SSL object not yet tied to a socket
};

class ConnectionTracker {
 public:
  // Which of a connection's copies the kernel makes: the socket's bytes (for
  // TLS, ciphertext), or the plaintext the OpenSSL uprobes see.
  enum class CopiedStream { kSocket, kPlaintext };
  // stop_capture is called once a copy is known to be of no interest: the
  // protocol inside is not one we parse, or (kSocket of a TLS connection)
  // the handshake is over. The kernel then stops making that copy.
  using StopCapture = std::function<void(std::uint32_t pid, std::int32_t fd, std::uint64_t conn_id,
                                         CopiedStream stream)>;
  // Called when a process's connection turns out to speak TLS (so its TLS
  // library can be hooked for plaintext).
  using TlsSeen = std::function<void(std::uint32_t pid)>;

  ConnectionTracker(WireAggregator& sink, protocols::ParserOptions options, StopCapture stop)
      : sink_(sink), options_(options), stop_capture_(std::move(stop)) {}

  // Exchanges and connection uses also go to `observer` (may be null; not owned).
  void SetObserver(WireObserver* observer) { observer_ = observer; }
  void SetTlsSeen(TlsSeen callback) { tls_seen_ = std::move(callback); }

  void OnEvent(std::span<const std::byte> data);
  // Closes every connection still open (end of recording): parser errors and
  // connection counts are settled.
  void Finish();
  // Process `pid` exited at `ts_ns` (the kernel closed its sockets without a
  // close syscall): closes its connections. Call once every event the
  // process sent was delivered. Returns their descriptors, whose kernel
  // entries the caller removes.
  std::vector<std::int32_t> CloseProcess(std::uint32_t pid, std::uint64_t ts_ns);

  const TrackerStats& stats() const { return stats_; }
  std::uint64_t parse_errors() const;
  // Requests the parsers had to drop unanswered after lost bytes.
  std::uint64_t exchanges_lost() const;

  // (pid, peer "ip:port") -> protocol of the database servers each process
  // connected to, for classifying its waits on them.
  const std::map<std::pair<std::uint32_t, std::string>, protocols::Protocol>& peer_protocols()
      const {
    return peer_protocols_;
  }
  // Drops the peer_protocols() of processes that exited (CloseProcess) since
  // the last call: once the window that holds their last waits is built.
  void ForgetExitedPeers();

 private:
  void OnOpen(const ws_sock_open_event& ev);
  void OnClose(const ws_sock_close_event& ev);
  void OnData(const ws_sock_data_event& ev, std::span<const std::byte> payload);
  void OnPlaintext(const ws_sock_data_event& ev, std::span<const std::byte> payload);
  void StartTls(Connection& c);
  void FeedTls(Connection& c, bool egress, std::string_view bytes, std::uint64_t ts_ns,
               std::uint32_t tid);
  void DrainTls(Connection& c, std::uint32_t tid);
  void OnConnectLatency(const ws_tcp_connect_event& ev);
  void Feed(Connection& c, bool egress, std::string_view bytes, std::uint64_t ts_ns,
            std::uint32_t tid);
  void Decide(Connection& c);
  // Feed's bytes are of no interest: stops the copy they came from.
  void StopFeed(const Connection& c);
  void Drain(Connection& c, std::uint32_t tid);
  void ReportFirstUse(Connection& c, std::uint32_t tid);
  void Close(Connection& c, std::uint64_t ts_ns);

  WireAggregator& sink_;
  protocols::ParserOptions options_;
  StopCapture stop_capture_;
  WireObserver* observer_ = nullptr;
  TlsSeen tls_seen_;
  using ConnMap = std::unordered_map<std::uint64_t, Connection>;
  // Removes a closed connection from conns_ and conn_by_sock_; the next one.
  ConnMap::iterator Forget(ConnMap::iterator it);
  ConnMap conns_;                                                  // by conn_id
  std::unordered_map<std::uint64_t, std::uint64_t> conn_by_sock_;  // struct sock * -> conn_id
  std::unordered_map<std::uint64_t, std::uint64_t>
      latency_by_sock_;  // connect latency waiting for its open event
  std::map<std::pair<std::uint32_t, std::string>, protocols::Protocol> peer_protocols_;
  // Processes with a connection they did not connect() themselves (accepted,
  // UNIX, or open before tracing): ExchangeOrigin::may_serve.
  std::unordered_set<std::uint32_t> may_serve_pids_;
  std::unordered_set<std::uint32_t> exited_pids_;  // since ForgetExitedPeers
  std::uint64_t closed_parse_errors_ = 0;
  std::uint64_t closed_exchanges_lost_ = 0;
  TrackerStats stats_;
  // Drain's buffer, traded with each parser's (see TakeExchanges).
  std::vector<protocols::Exchange> exchanges_scratch_;
};

}  // namespace waitscope
