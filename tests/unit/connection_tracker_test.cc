// ConnectionTracker on synthetic kernel events: reassembly, gaps, fd reuse,
// protocol detection and role inference, without BPF.
#include "conn/connection_tracker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "conn/wire_observer.h"
#include "core/peer_address.h"
#include "protocols/capture.h"
#include "sock_events.h"
#include "waitscope/bpf/openssl.h"

namespace waitscope {
namespace {

class TrackerTest : public ::testing::Test {
 protected:
  TrackerTest()
      : tracker_(wire_, protocols::ParserOptions{},
                 [this](std::uint32_t, std::int32_t, std::uint64_t id,
                        ConnectionTracker::CopiedStream stream) {
                   (stream == ConnectionTracker::CopiedStream::kPlaintext ? plaintext_stopped_
                                                                          : stopped_)
                       .push_back(id);
                 }) {}

  template <typename T>
  void Send(const T& ev) {
    tracker_.OnEvent({reinterpret_cast<const std::byte*>(&ev), sizeof(ev)});
  }

  void Open(std::uint64_t conn_id, std::uint8_t role, std::uint16_t peer_port, int fd = 7,
            std::uint32_t pid = 100) {
    tracker_.OnEvent(testing::SockOpenEvent({.conn_id = conn_id,
                                             .pid = pid,
                                             .fd = fd,
                                             .role = role,
                                             .local_port = 40000,
                                             .peer_port = peer_port}));
  }

  void Data(std::uint64_t conn_id, bool egress, std::uint64_t pos, std::string_view bytes,
            std::uint64_t ts, std::uint32_t len = 0, std::uint32_t type = WS_EV_SOCK_DATA) {
    tracker_.OnEvent(testing::SockDataEvent({.conn_id = conn_id,
                                             .pid = 100,
                                             .egress = egress,
                                             .stream_pos = pos,
                                             .bytes = bytes,
                                             .ts_ns = ts,
                                             .len = len,
                                             .type = type}));
  }

  void Close(std::uint64_t conn_id) {
    ws_sock_close_event ev{};
    ev.hdr.type = WS_EV_SOCK_CLOSE;
    ev.hdr.tgid = 100;
    ev.conn_id = conn_id;
    ev.srtt_us = 50;
    Send(ev);
  }

  const QueryRow* Find(const std::string& statement) {
    rows_ = wire_.Queries();
    for (const QueryRow& q : rows_) {
      if (q.statement == statement) return &q;
    }
    return nullptr;
  }

  WireAggregator wire_;
  std::vector<std::uint64_t> stopped_;            // socket copies stopped, by conn_id
  std::vector<std::uint64_t> plaintext_stopped_;  // uprobe plaintext copies stopped
  ConnectionTracker tracker_;
  std::vector<QueryRow> rows_;
};

const std::string kPing = "*1\r\n$4\r\nPING\r\n";
const std::string kPong = "+PONG\r\n";

TEST_F(TrackerTest, ClientExchangeWithLatencyFromChunkTimes) {
  Open(1, WS_ROLE_CLIENT, 6379);
  Data(1, true, 0, kPing, 1'000'000);
  Data(1, false, 0, kPong, 1'250'000);
  const QueryRow* q = Find("PING");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->count, 1u);
  EXPECT_EQ(q->protocol, "redis");
  EXPECT_EQ(q->peer, "127.0.0.1:6379");
  EXPECT_NEAR(q->latency_us.max, 250.0, 0.01);
}

TEST_F(TrackerTest, ServerRoleSwapsDirections) {
  Open(1, WS_ROLE_SERVER, 51000);
  Data(1, false, 0, kPing, 10);  // the server receives the request
  Data(1, true, 0, kPong, 20);
  const QueryRow* q = Find("PING");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->count, 1u);
  EXPECT_EQ(q->peer, "127.0.0.1:0");  // clients' ports vary: the host is the key
}

TEST_F(TrackerTest, UnknownRoleIsInferredFromWhoSendsTheRequest) {
  Open(1, WS_ROLE_UNKNOWN, 51000);
  Data(1, false, 0, kPing, 10);
  Data(1, true, 0, kPong, 20);
  ASSERT_NE(Find("PING"), nullptr);
  std::vector<ConnectionRow> conns = wire_.Connections();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_TRUE(conns[0].server);
  EXPECT_EQ(conns[0].protocol, "redis");
}

TEST_F(TrackerTest, MissingBytesAreAGapNotGarbage) {
  Open(1, WS_ROLE_CLIENT, 6379);
  Data(1, true, 0, kPing, 10);
  Data(1, false, 0, kPong, 20);
  // The next request's event was dropped: the stream jumps ahead.
  Data(1, true, 2 * kPing.size(), kPing, 30);
  Data(1, false, 2 * kPong.size(), kPong, 40);
  EXPECT_EQ(tracker_.stats().gap_bytes, kPing.size() + kPong.size());
  const QueryRow* q = Find("PING");
  ASSERT_NE(q, nullptr);
  EXPECT_GE(q->count, 1u);  // the first for sure; after the gap the parser may resync
  EXPECT_LE(q->count, 2u);
}

TEST_F(TrackerTest, TruncatedChunkTailIsAGap) {
  Open(1, WS_ROLE_CLIENT, 6379);
  Data(1, true, 0, kPing.substr(0, 4), 10, static_cast<std::uint32_t>(kPing.size()));
  EXPECT_EQ(tracker_.stats().gap_bytes, kPing.size() - 4);
}

// The kernel closes an exiting process's sockets without a close syscall:
// CloseProcess ends that process's connections (and only those) and names
// their descriptors, whose kernel entries the caller then removes.
TEST_F(TrackerTest, ExitedProcessConnectionsAreClosed) {
  Open(1, WS_ROLE_CLIENT, 6379, /*fd=*/7);
  Open(2, WS_ROLE_CLIENT, 6379, /*fd=*/9);
  Open(3, WS_ROLE_CLIENT, 6379, /*fd=*/7, /*pid=*/200);
  Data(1, true, 0, kPing, 10);
  Data(1, false, 0, kPong, 20);
  std::vector<std::int32_t> fds = tracker_.CloseProcess(100, 30);
  std::sort(fds.begin(), fds.end());
  EXPECT_EQ(fds, (std::vector<std::int32_t>{7, 9}));
  EXPECT_TRUE(tracker_.CloseProcess(100, 31).empty());
  Data(2, true, 0, kPing, 40);  // a connection of the exited process: gone
  EXPECT_EQ(tracker_.stats().unknown_conn, 1u);
  // Both of pid 100's are reported (one row: same peer); pid 200's, still
  // open and silent, only once the recording ends.
  std::vector<ConnectionRow> conns = wire_.Connections();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].pid, 100u);
  EXPECT_EQ(conns[0].opened, 2u);
  tracker_.Finish();
  conns = wire_.Connections();
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_EQ(conns[1].pid, 200u);
  ASSERT_NE(Find("PING"), nullptr);
  EXPECT_EQ(Find("PING")->count, 1u);
}

TEST_F(TrackerTest, PeerProtocolsHoldClientsDatabasesUntilTheirWindowIsBuilt) {
  using PeerMap = std::map<std::pair<std::uint32_t, std::string>, protocols::Protocol>;
  Open(1, WS_ROLE_CLIENT, 6379, /*fd=*/7, /*pid=*/100);
  Data(1, true, 0, kPing, 10);
  Data(1, false, 0, kPong, 20);
  // A server's peers are its clients, an ephemeral port each: not kept.
  Open(2, WS_ROLE_SERVER, 51000, /*fd=*/8, /*pid=*/300);
  Data(2, false, 0, kPing, 30);
  Data(2, true, 0, kPong, 40);
  EXPECT_EQ(tracker_.peer_protocols(),
            (PeerMap{{{100u, "127.0.0.1:6379"}, protocols::Protocol::kRedis}}));
  tracker_.CloseProcess(100, 50);
  // Still there for the window that holds the process's last waits...
  EXPECT_EQ(tracker_.peer_protocols().size(), 1u);
  tracker_.ForgetExitedPeers();
  // ...and gone after it.
  EXPECT_TRUE(tracker_.peer_protocols().empty());
}

// Every exchange's origin says whether its process may be serving: not while
// each of its connections is one it connected itself (the open event's
// client role), from its first other one (accepted, UNIX, or open before
// tracing) until it exits.
TEST_F(TrackerTest, AProcessMayServeOnceItHasAConnectionItDidNotConnect) {
  struct Origins final : WireObserver {
    std::vector<bool> may_serve;
    void OnExchange(const ExchangeOrigin& o, const protocols::Exchange&) override {
      may_serve.push_back(o.may_serve);
    }
    void OnClientConnectionUse(const ClientConnectionUse&) override {}
  } origins;
  tracker_.SetObserver(&origins);
  auto ping = [&](std::uint64_t conn_id, std::uint64_t n, std::uint64_t ts) {
    Data(conn_id, true, n * kPing.size(), kPing, ts);
    Data(conn_id, false, n * kPong.size(), kPong, ts + 1);
  };
  Open(1, WS_ROLE_CLIENT, 6379, /*fd=*/7);
  ping(1, 0, 10);
  Open(2, WS_ROLE_UNKNOWN, 51000, /*fd=*/8);
  ping(1, 1, 20);
  tracker_.CloseProcess(100, 30);
  Open(3, WS_ROLE_CLIENT, 6379, /*fd=*/7);  // pid 100 reused by a new process
  ping(3, 0, 40);
  Open(4, WS_ROLE_SERVER, 51001, /*fd=*/9);
  ping(3, 1, 50);
  EXPECT_EQ(origins.may_serve, (std::vector<bool>{false, true, false, true}));
}

TEST_F(TrackerTest, ReusedFdNeverMixesConnections) {
  Open(1, WS_ROLE_CLIENT, 6379, /*fd=*/7);
  Data(1, true, 0, "*2\r\n$3\r\nGET\r\n$1\r\na", 10);  // request cut short
  Close(1);
  Open(2, WS_ROLE_CLIENT, 6379, /*fd=*/7);  // same fd, new connection
  Data(2, true, 0, kPing, 20);
  Data(2, false, 0, kPong, 30);
  const QueryRow* q = Find("PING");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->count, 1u);
  EXPECT_EQ(Find("GET ?"), nullptr);
}

TEST_F(TrackerTest, UninterestingProtocolStopsCapture) {
  Open(1, WS_ROLE_CLIENT, 2525);
  Data(1, false, 0, "220 smtp.example ESMTP\r\n", 10);
  EXPECT_EQ(stopped_, (std::vector<std::uint64_t>{1}));
  EXPECT_TRUE(wire_.Queries().empty());
}

TEST_F(TrackerTest, AHalfTlsHeaderDoesNotHoldTheOtherSideForever) {
  // "\x16" could start a TLS record header, so detection waits for more of
  // that side; the other side's bytes are held meanwhile, up to the cap.
  Open(1, WS_ROLE_CLIENT, 4433);
  Data(1, true, 0, "\x16", 10);
  const std::string chunk(16384, 'x');
  for (std::uint64_t i = 0; i < 8 && stopped_.empty(); ++i)
    Data(1, false, i * chunk.size(), chunk, 20);
  EXPECT_EQ(stopped_, (std::vector<std::uint64_t>{1}));
}

TEST_F(TrackerTest, UnixSocketExchangesAreReportedWithTheSocketPath) {
  ws_sock_open_event ev{};
  ev.hdr.type = WS_EV_SOCK_OPEN;
  ev.hdr.tgid = 100;
  ev.conn_id = 1;
  ev.fd = 7;
  ev.role = WS_ROLE_CLIENT;
  ev.family = AF_UNIX;
  std::strcpy(ev.unix_path, "/run/redis/redis.sock");
  Send(ev);
  Data(1, true, 0, kPing, 10);
  Data(1, false, 0, kPong, 20);
  const QueryRow* q = Find("PING");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->peer, "unix:/run/redis/redis.sock");
}

TEST_F(TrackerTest, AbstractAndUnnamedUnixSocketsAreNamedAsWaitTargetsAre) {
  ws_sock_open_event ev{};
  ev.hdr.type = WS_EV_SOCK_OPEN;
  ev.hdr.tgid = 100;
  ev.role = WS_ROLE_CLIENT;
  ev.family = AF_UNIX;
  ev.conn_id = 1;
  ev.fd = 7;
  ev.flags = WS_OPEN_UNIX_ABSTRACT;
  std::strcpy(ev.unix_path, "cache");
  Send(ev);
  ev.conn_id = 2;
  ev.fd = 8;
  ev.flags = 0;
  ev.unix_path[0] = '\0';
  Send(ev);
  Data(1, true, 0, kPing, 10);
  Data(1, false, 0, kPong, 20);
  Data(2, true, 0, kPing, 30);
  Data(2, false, 0, kPong, 40);
  std::set<std::string> peers;
  for (const QueryRow& q : wire_.Queries()) peers.insert(q.peer);
  EXPECT_EQ(peers, (std::set<std::string>{"unix:@cache", "unix:(unnamed)"}));
}

TEST_F(TrackerTest, DataForAnUnseenConnectionIsCounted) {
  Data(42, true, 0, kPing, 10);
  EXPECT_EQ(tracker_.stats().unknown_conn, 1u);
}

TEST_F(TrackerTest, MalformedEventsAreCountedNotParsed) {
  std::byte tiny[3]{};
  tracker_.OnEvent(tiny);
  ws_sock_data_event lying{};
  lying.hdr.type = WS_EV_SOCK_DATA;
  lying.captured = 60000;  // more than the event carries
  tracker_.OnEvent({reinterpret_cast<const std::byte*>(&lying), WS_SOCK_DATA_HEADER_SIZE});
  EXPECT_EQ(tracker_.stats().bad_events, 2u);
}

class TlsTrackerTest : public TrackerTest {
 protected:
  // `header_first`: every chunk is read as a 5-byte record header and
  // then the rest, as OpenSSL servers read.
  void Replay(const std::string& name, std::uint8_t role, bool header_first = false) {
    const auto chunks = protocols::testing::LoadCapture(std::string(TLS_TESTDATA_DIR) + "/" + name);
    Open(1, role, role == WS_ROLE_SERVER ? 51000 : 443);
    std::uint64_t pos[2] = {0, 0};
    for (const auto& c : chunks) {
      const bool client_sent = c.dir == protocols::Direction::kRequest;
      const bool egress = (role == WS_ROLE_SERVER) != client_sent;
      std::vector<std::string> parts = {c.data};
      if (header_first && c.data.size() > 5) parts = {c.data.substr(0, 5), c.data.substr(5)};
      for (const std::string& part : parts) {
        Data(1, egress, pos[egress], part, c.ts_ns);
        pos[egress] += part.size();
      }
    }
  }
};

TEST_F(TlsTrackerTest, ServerSideHandshakeIsReportedByVersion) {
  Replay("tls12_full.capture", WS_ROLE_SERVER);
  Close(1);
  const std::vector<TlsRow> rows = wire_.Tls();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].server);
  EXPECT_EQ(rows[0].version, "TLSv1.2");
  EXPECT_FALSE(rows[0].resumed);
  EXPECT_EQ(rows[0].count, 1u);
  EXPECT_EQ(rows[0].failures, 0u);
  EXPECT_EQ(rows[0].peer, "127.0.0.1:0");
  EXPECT_FALSE(rows[0].plaintext);
  // The ciphertext after the handshake is not worth copying.
  EXPECT_EQ(stopped_, (std::vector<std::uint64_t>{1}));
  const std::vector<ConnectionRow> conns = wire_.Connections();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].protocol, "tls");
}

TEST_F(TlsTrackerTest, AServerReadingTheRecordHeaderFirstIsStillSeenAsTls) {
  Replay("tls13_full.capture", WS_ROLE_SERVER, /*header_first=*/true);
  Close(1);
  const std::vector<TlsRow> rows = wire_.Tls();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].version, "TLSv1.3");
}

TEST_F(TlsTrackerTest, ClientSideResumptionAndFailure) {
  Replay("tls13_psk_resumed.capture", WS_ROLE_CLIENT);
  Close(1);
  Replay("tls12_bad_cert.capture", WS_ROLE_CLIENT);
  Close(1);
  const std::vector<TlsRow> rows = wire_.Tls();
  ASSERT_EQ(rows.size(), 2u);
  bool resumed13 = false, failed12 = false;
  for (const TlsRow& r : rows) {
    EXPECT_FALSE(r.server);
    EXPECT_EQ(r.peer, "127.0.0.1:443");
    if (r.version == "TLSv1.3" && r.resumed && r.failures == 0) resumed13 = true;
    if (r.version == "TLSv1.2" && r.failures == 1) failed12 = true;
  }
  EXPECT_TRUE(resumed13);
  EXPECT_TRUE(failed12);
}

TEST_F(TlsTrackerTest, PlaintextFromUprobesIsParsedAsTheInnerProtocol) {
  Replay("tls13_full.capture", WS_ROLE_CLIENT);
  const std::string request = "GET /orders/42 HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  Data(1, true, 0, request, 5'000'000, 0, WS_EV_SSL_DATA);
  Data(1, false, 0, response, 6'000'000, 0, WS_EV_SSL_DATA);
  Close(1);
  const std::vector<HttpRow> http = wire_.Http();
  ASSERT_EQ(http.size(), 1u);
  EXPECT_EQ(http[0].endpoint, "GET /orders/{id}");
  const std::vector<TlsRow> rows = wire_.Tls();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].plaintext);
  const std::vector<ConnectionRow> conns = wire_.Connections();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].protocol, "http");
  EXPECT_EQ(tracker_.parse_errors(), 0u);
}

TEST_F(TlsTrackerTest, PlaintextOfAnUnparsedProtocolStopsOnlyThePlaintextCopy) {
  Replay("tls13_full.capture", WS_ROLE_CLIENT);
  ASSERT_EQ(stopped_, (std::vector<std::uint64_t>{1}));  // ciphertext, after the handshake
  EXPECT_TRUE(plaintext_stopped_.empty());
  Data(1, false, 0, "220 smtp.example ESMTP\r\n", 5'000'000, 0, WS_EV_SSL_DATA);
  EXPECT_EQ(plaintext_stopped_, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(stopped_, (std::vector<std::uint64_t>{1}));
  Close(1);
  const std::vector<TlsRow> rows = wire_.Tls();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].plaintext);
  EXPECT_TRUE(wire_.Http().empty());
}

TEST_F(TlsTrackerTest, ParsedPlaintextKeepsBeingCopied) {
  Replay("tls13_full.capture", WS_ROLE_CLIENT);
  Data(1, true, 0, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 5'000'000, 0, WS_EV_SSL_DATA);
  EXPECT_TRUE(plaintext_stopped_.empty());
}

TEST_F(TrackerTest, PlaintextOfAnUnknownConnectionIsCounted) {
  Data(0, true, 0, "GET / HTTP/1.1\r\n\r\n", 10, 0, WS_EV_SSL_DATA);
  EXPECT_EQ(tracker_.stats().plaintext_unknown_conn, 1u);
}

// limits.max_statements: past the cap a process's new statements are summed
// in one row, each exchange counted; its known statements keep their rows,
// other processes are not affected, and the next window starts over.
TEST(WireAggregatorRows, StatementsPastTheCapAreSummedInOneRow) {
  WireAggregator wire(/*max_statements=*/2);
  auto add = [&](std::uint32_t pid, const std::string& statement) {
    protocols::Exchange ex;
    ex.protocol = protocols::Protocol::kPostgres;
    ex.statement = statement;
    wire.AddExchange(ExchangeOrigin{pid, false, "127.0.0.1:5432", "postgres", 1, 1}, ex);
  };
  auto counts = [&] {
    std::map<std::string, std::uint64_t> out;
    for (const QueryRow& q : wire.Queries())
      out[std::to_string(q.pid) + " " + q.statement] = q.count;
    return out;
  };
  const std::string folded(WireAggregator::kFoldedStatement);
  for (const char* statement : {"A", "B", "C", "D", "A", "D"}) add(1, statement);
  add(2, "C");
  EXPECT_EQ(counts(), (std::map<std::string, std::uint64_t>{
                          {"1 A", 2}, {"1 B", 1}, {"1 " + folded, 3}, {"2 C", 1}}));
  EXPECT_EQ(wire.statements_folded(), 3u);
  wire.Reset();
  add(1, "C");
  EXPECT_EQ(counts(), (std::map<std::string, std::uint64_t>{{"1 C", 1}}));
  EXPECT_EQ(wire.statements_folded(), 3u);
}

// The same cap holds HTTP endpoints, per process and role: a scanner's
// unique paths do not make a row (and a histogram) each.
TEST(WireAggregatorRows, EndpointsPastTheCapAreSummedInOneRow) {
  WireAggregator wire(/*max_statements=*/2);
  auto add = [&](bool server, const std::string& endpoint) {
    protocols::Exchange ex;
    ex.protocol = protocols::Protocol::kHttp1;
    ex.statement = endpoint;
    ex.http_status = 404;
    wire.AddExchange(ExchangeOrigin{1, server, "127.0.0.1:8080", "http", 1, 1}, ex);
  };
  auto counts = [&] {
    std::map<std::string, std::uint64_t> out;
    for (const HttpRow& h : wire.Http())
      out[(h.server ? "server " : "client ") + h.endpoint] = h.count;
    return out;
  };
  const std::string folded(WireAggregator::kFoldedEndpoint);
  for (const char* path : {"GET /a", "GET /b", "GET /c", "GET /d", "GET /a"}) add(true, path);
  add(false, "GET /c");  // the client side has its own cap
  EXPECT_EQ(counts(), (std::map<std::string, std::uint64_t>{{"server GET /a", 2},
                                                            {"server GET /b", 1},
                                                            {"server " + folded, 2},
                                                            {"client GET /c", 1}}));
  EXPECT_EQ(wire.statements_folded(), 2u);
  wire.Reset();
  add(true, "GET /d");
  EXPECT_EQ(counts(), (std::map<std::string, std::uint64_t>{{"server GET /d", 1}}));
  EXPECT_EQ(wire.statements_folded(), 2u);
}

// Consecutive exchanges reuse the previous row (and its cache row) when
// every key part matches, and only then; a reset forgets those rows too.
TEST(WireAggregatorRows, EachKeyPartSeparatesRowsAcrossResets) {
  WireAggregator wire;
  // Every GET is a cache read: a hit when the statement ends in "?".
  auto add = [&](std::uint32_t pid, const std::string& protocol, const std::string& peer,
                 const std::string& statement, bool server = false) {
    protocols::Exchange ex;
    ex.protocol = protocols::Protocol::kRedis;
    ex.statement = statement;
    ex.request_end_ns = 1;
    ex.response_end_ns = 2;
    if (statement.starts_with("GET")) {
      ex.cache_reads = 1;
      ex.cache_hits = statement.ends_with("?") ? 1 : 0;
    }
    wire.AddExchange(ExchangeOrigin{pid, server, peer, protocol, 1, 1}, ex);
  };
  auto counts = [&] {
    std::map<std::string, std::uint64_t> out;
    for (const QueryRow& q : wire.Queries()) {
      out[std::to_string(q.pid) + " " + q.protocol + " " + q.peer + " " + q.statement] += q.count;
    }
    return out;
  };
  auto cache = [&] {
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> out;  // reads, hits
    for (const CacheRow& c : wire.Cache()) {
      auto& [reads, hits] = out[std::to_string(c.pid) + " " + c.protocol + " " + c.peer];
      reads += c.reads;
      hits += c.hits;
    }
    return out;
  };
  for (int round = 0; round < 2; ++round) {
    add(1, "redis", "127.0.0.1:6379", "GET k:?");
    add(1, "redis", "127.0.0.1:6379", "GET k:?");
    add(2, "redis", "127.0.0.1:6379", "GET k:?");
    add(2, "redis", "127.0.0.1:6380", "GET k:?");
    add(2, "postgres", "127.0.0.1:6380", "GET k:?");
    add(2, "postgres", "127.0.0.1:6380", "SET k:?");
    add(1, "redis", "127.0.0.1:6379", "GET k:?");
    add(3, "redis", "127.0.0.1:5000", "GET k:?", /*server=*/true);  // peer "127.0.0.1:0"
    add(3, "redis", "127.0.0.1:5001", "GET k:?", /*server=*/true);
    add(1, "redis", "127.0.0.1:6379", "GET k:a");  // another row, the same cache row
    add(1, "redis", "127.0.0.1:6379", "GET k:?");
    const std::map<std::string, std::uint64_t> want = {
        {"1 redis 127.0.0.1:6379 GET k:?", 4},    {"1 redis 127.0.0.1:6379 GET k:a", 1},
        {"2 redis 127.0.0.1:6379 GET k:?", 1},    {"2 redis 127.0.0.1:6380 GET k:?", 1},
        {"2 postgres 127.0.0.1:6380 GET k:?", 1}, {"2 postgres 127.0.0.1:6380 SET k:?", 1},
        {"3 redis 127.0.0.1:0 GET k:?", 2},
    };
    EXPECT_EQ(counts(), want) << "round " << round;
    const std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> want_cache = {
        {"1 redis 127.0.0.1:6379", {5, 4}}, {"2 redis 127.0.0.1:6379", {1, 1}},
        {"2 redis 127.0.0.1:6380", {1, 1}}, {"2 postgres 127.0.0.1:6380", {1, 1}},
        {"3 redis 127.0.0.1:0", {2, 2}},
    };
    EXPECT_EQ(cache(), want_cache) << "round " << round;
    wire.Reset();
    EXPECT_TRUE(wire.Queries().empty());
    EXPECT_TRUE(wire.Cache().empty());
  }
}

TEST(WithPortZero, KeepsTheHost) {
  EXPECT_EQ(WithPortZero("10.1.2.3:5432"), "10.1.2.3:0");
  EXPECT_EQ(WithPortZero("[::1]:80"), "[::1]:0");
  EXPECT_EQ(WithPortZero("unix:/run/a:5"), "unix:/run/a:5");
}

TEST(WithPortZero, AnyPortHostReadsItBack) {
  EXPECT_EQ(AnyPortHost(WithPortZero("10.1.2.3:5432")), "10.1.2.3");
  EXPECT_EQ(AnyPortHost(WithPortZero("[::1]:80")), "[::1]");
  EXPECT_EQ(AnyPortHost("10.1.2.3:5432"), "");
  EXPECT_EQ(AnyPortHost("10.1.2.3:10"), "");  // ends with 0, but port 10
  EXPECT_EQ(AnyPortHost("unix:/run/a:0"), "");
  EXPECT_EQ(AnyPortHost(":0"), "");
}

}  // namespace
}  // namespace waitscope
