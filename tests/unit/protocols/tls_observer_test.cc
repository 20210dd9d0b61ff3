// TLS handshake observer on connections recorded from openssl s_server /
// s_client 3.0 (agent/protocols/tls/testdata, tools/capture/record_tls_captures.sh):
// each capture gives one known handshake, whatever the chunking, and lost
// or hostile bytes give a counted error or a failed handshake, never a
// crash. Prefix tests put a PostgreSQL SSLRequest or a real MariaDB greeting
// in front of a real TLS flight, as those protocols do before STARTTLS.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "capture.h"
#include "protocols/tls/handshake_observer.h"

namespace waitscope::protocols {
namespace {

using testing::Chunk;
using tls::Handshake;
using tls::HandshakeObserver;

// Lets the ConnectionParser replay helpers of capture.h drive the observer.
class ObserverAdapter final : public ConnectionParser {
 public:
  void OnData(Direction dir, std::string_view bytes, std::uint64_t ts) override {
    observer.OnData(dir, bytes, ts);
  }
  void OnGap(Direction dir, std::uint64_t n) override { observer.OnGap(dir, n); }
  void OnClose(std::uint64_t ts) override { observer.OnClose(ts); }
  HandshakeObserver observer;
};

std::vector<Chunk> Load(const std::string& name) {
  return testing::LoadCapture(std::string(PROTO_TESTDATA_DIR) + "/" + name + ".capture");
}

std::uint64_t CloseTime(const std::vector<Chunk>& chunks) {
  return chunks.empty() ? 1 : chunks.back().ts_ns + 1000;
}

std::string Describe(const Handshake& h) {
  return h.version + (h.resumed ? " resumed" : "") + (h.hello_retry ? " hrr" : "") +
         (h.failed ? " failed:" + std::to_string(h.alert) : "") +
         " rt=" + std::to_string(h.round_trips) + " start=" + std::to_string(h.start_ns) +
         " end=" + std::to_string(h.end_ns) + " sni=" + h.sni;
}

std::vector<std::string> Describe(const std::vector<Handshake>& v) {
  std::vector<std::string> out;
  for (const Handshake& h : v) out.push_back(Describe(h));
  return out;
}

struct Result {
  std::vector<Handshake> handshakes;
  ParserStats stats;
  bool done_before_close = false;
};

template <typename F>
Result RunWith(const std::vector<Chunk>& chunks, F replay) {
  ObserverAdapter a;
  replay(a);
  Result r;
  r.done_before_close = a.observer.HandshakeDone();
  a.OnClose(CloseTime(chunks));
  r.handshakes = a.observer.TakeHandshakes();
  r.stats = a.observer.stats();
  return r;
}

Result RunWhole(const std::vector<Chunk>& chunks, std::size_t piece = 0) {
  return RunWith(chunks, [&](ObserverAdapter& a) { testing::Replay(a, chunks, piece); });
}

struct Expected {
  const char* name;
  const char* version;
  bool resumed;
  bool hello_retry;
  bool failed;
  std::uint8_t alert;
  std::uint32_t round_trips;
  std::size_t end_chunk;  // the chunk completing (or failing) the handshake
};

// end_chunk per the documented rule: 1.2 full = server Finished, 1.2
// abbreviated = client Finished, 1.3 = client Finished (first encrypted
// client record), failures = the alert. Every handshake starts at chunk 0.
const Expected kExpected[] = {
    {"tls12_full", "TLSv1.2", false, false, false, 0, 2, 3},
    {"tls12_resumed_session_id", "TLSv1.2", true, false, false, 0, 1, 2},
    {"tls12_resumed_ticket", "TLSv1.2", true, false, false, 0, 1, 2},
    {"tls13_full", "TLSv1.3", false, false, false, 0, 1, 2},
    {"tls13_psk_resumed", "TLSv1.3", true, false, false, 0, 1, 2},
    {"tls13_hello_retry", "TLSv1.3", false, true, false, 0, 2, 4},
    {"tls12_bad_cert", "TLSv1.2", false, false, true, 48, 1, 2},    // unknown_ca
    {"tls13_bad_cert", "TLSv1.3", false, false, true, 48, 1, 2},    // OpenSSL sends it in clear
    {"version_mismatch", "unknown", false, false, true, 70, 1, 1},  // protocol_version
};

Handshake Want(const Expected& e, const std::vector<Chunk>& chunks) {
  Handshake h;
  h.version = e.version;
  h.resumed = e.resumed;
  h.hello_retry = e.hello_retry;
  h.failed = e.failed;
  h.alert = e.alert;
  h.round_trips = e.round_trips;
  h.start_ns = chunks.at(0).ts_ns;
  h.end_ns = chunks.at(e.end_chunk).ts_ns;
  h.sni = "localhost";
  return h;
}

TEST(TlsObserverTest, EachCaptureGivesItsHandshake) {
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.name);
    auto chunks = Load(e.name);
    Result r = RunWhole(chunks);
    ASSERT_EQ(r.handshakes.size(), 1u);
    EXPECT_EQ(Describe(r.handshakes[0]), Describe(Want(e, chunks)));
    EXPECT_TRUE(r.done_before_close) << "the caller could stop feeding";
    EXPECT_EQ(r.stats.parse_errors, 0u);
    EXPECT_EQ(r.stats.resyncs, 0u);
  }
}

// Whole, byte by byte, small pieces, and every chunk split at every byte.
TEST(TlsObserverTest, AnyChunkingGivesTheSameHandshake) {
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.name);
    auto chunks = Load(e.name);
    const std::string want = Describe(Want(e, chunks));
    for (std::size_t piece : {1, 2, 3, 5, 7, 64}) {
      Result r = RunWhole(chunks, piece);
      ASSERT_EQ(Describe(r.handshakes), std::vector<std::string>{want}) << "piece " << piece;
      ASSERT_EQ(r.stats.parse_errors, 0u);
    }
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      for (std::size_t cut = 1; cut < chunks[i].data.size(); ++cut) {
        Result r =
            RunWith(chunks, [&](ObserverAdapter& a) { testing::ReplaySplitAt(a, chunks, i, cut); });
        ASSERT_EQ(Describe(r.handshakes), std::vector<std::string>{want})
            << "chunk " << i << " cut " << cut;
        ASSERT_EQ(r.stats.parse_errors, 0u);
      }
    }
  }
}

// Re-frames the cleartext handshake records of one chunk: their bodies
// joined and cut into records of `fragment` bytes (a message spanning
// records), or into one record (several messages in a record). Legal TLS:
// the record layer may fragment or coalesce handshake messages freely.
std::string Reframe(const std::string& data, std::size_t fragment) {
  std::string messages;
  std::string rest;
  std::size_t pos = 0;
  while (pos + 5 <= data.size()) {
    const auto type = static_cast<std::uint8_t>(data[pos]);
    const std::size_t len =
        (static_cast<std::uint8_t>(data[pos + 3]) << 8) | static_cast<std::uint8_t>(data[pos + 4]);
    if (type != 22) {
      rest = data.substr(pos);
      break;
    }
    messages += data.substr(pos + 5, len);
    pos += 5 + len;
  }
  std::string out;
  for (std::size_t off = 0; off < messages.size(); off += fragment) {
    const std::string body = messages.substr(off, fragment);
    out += std::string("\x16\x03\x03", 3);
    out.push_back(static_cast<char>(body.size() >> 8));
    out.push_back(static_cast<char>(body.size() & 0xff));
    out += body;
  }
  return out + rest;
}

TEST(TlsObserverTest, MessagesSpanningOrSharingRecords) {
  for (const char* name : {"tls12_full", "tls12_resumed_session_id", "tls13_hello_retry"}) {
    for (std::size_t fragment : {1, 7, 100, 16384}) {
      SCOPED_TRACE(std::string(name) + " fragment " + std::to_string(fragment));
      auto chunks = Load(name);
      const Expected* e = nullptr;
      for (const Expected& x : kExpected) {
        if (std::string(x.name) == name) e = &x;
      }
      ASSERT_NE(e, nullptr);
      const std::string want = Describe(Want(*e, chunks));
      chunks[0].data = Reframe(chunks[0].data, fragment);  // the ClientHello
      chunks[1].data = Reframe(chunks[1].data, fragment);  // the server's first flight
      Result r = RunWhole(chunks);
      EXPECT_EQ(Describe(r.handshakes), std::vector<std::string>{want});
      EXPECT_EQ(r.stats.parse_errors, 0u);
      EXPECT_EQ(Describe(RunWhole(chunks, 3).handshakes), std::vector<std::string>{want});
    }
  }
}

// With --capture-bytes K every syscall longer than K is cut. Large K: the
// same handshakes. Small K cuts into the hellos: the observer gives up with
// a counted error, or still gets it right; never a wrong success.
TEST(TlsObserverTest, CappedCapturesGiveTheHandshakeOrACountedError) {
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.name);
    auto chunks = Load(e.name);
    const std::string want = Describe(Want(e, chunks));
    for (std::size_t k : {1, 5, 6, 11, 16, 64, 100, 128, 200, 300, 512, 16384}) {
      Result r = RunWith(chunks, [&](ObserverAdapter& a) { testing::ReplayCapped(a, chunks, k); });
      if (r.handshakes.empty()) {
        EXPECT_GE(r.stats.parse_errors, 1u) << "k " << k;
        continue;
      }
      ASSERT_EQ(r.handshakes.size(), 1u);
      EXPECT_EQ(r.handshakes[0].start_ns, chunks[0].ts_ns) << "k " << k;
      EXPECT_EQ(r.handshakes[0].version, e.version) << "k " << k;
      EXPECT_EQ(r.handshakes[0].hello_retry, e.hello_retry) << "k " << k;
      EXPECT_EQ(r.handshakes[0].failed, e.failed) << "k " << k;
      if (k >= 1024) {
        EXPECT_EQ(Describe(r.handshakes[0]), want);
      }
    }
  }
}

// Bytes missing anywhere (a dropped event, a cut write): identical result,
// or a counted error and nothing reported, or (after framing was regained)
// the same handshake with the same start, version and outcome.
TEST(TlsObserverTest, GapsAnywhereNeverCrashOrMisreport) {
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.name);
    auto chunks = Load(e.name);
    const Handshake want = Want(e, chunks);
    std::size_t identical = 0, abandoned = 0, regained = 0;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      const std::size_t size = chunks[i].data.size();
      for (std::size_t cut = 0; cut < size; ++cut) {
        for (std::size_t lost : {std::size_t{1}, std::size_t{7}, size - cut}) {
          Result r = RunWith(chunks, [&](ObserverAdapter& a) {
            testing::ReplayWithGapInChunk(a, chunks, i, cut, lost);
          });
          const std::string where = "chunk " + std::to_string(i) + " cut " + std::to_string(cut) +
                                    " lost " + std::to_string(lost);
          if (r.handshakes.empty()) {
            ASSERT_GE(r.stats.parse_errors, 1u) << where;
            ++abandoned;
            continue;
          }
          ASSERT_EQ(r.handshakes.size(), 1u) << where;
          const Handshake& h = r.handshakes[0];
          if (Describe(h) == Describe(want)) {
            ++identical;
            continue;
          }
          ASSERT_GE(r.stats.resyncs + r.stats.parse_errors, 1u) << where << ": " << Describe(h);
          ASSERT_EQ(h.start_ns, want.start_ns) << where;
          ASSERT_EQ(h.version, want.version) << where;
          ASSERT_EQ(h.failed, want.failed) << where << ": " << Describe(h);
          ASSERT_GE(h.end_ns, want.end_ns) << where;
          ++regained;
        }
      }
    }
    // Two-chunk captures (hello, alert) have no byte whose loss is harmless.
    if (chunks.size() > 2) {
      EXPECT_GT(identical, 0u);
    }
    std::printf("%s: %zu identical, %zu abandoned, %zu regained framing\n", e.name, identical,
                abandoned, regained);
  }
}

TEST(TlsObserverTest, ClosedBeforeTheEndFails) {
  auto chunks = Load("tls13_full");
  chunks.resize(2);  // ClientHello and the server's flight, then the close
  Result r = RunWhole(chunks);
  ASSERT_EQ(r.handshakes.size(), 1u);
  EXPECT_EQ(Describe(r.handshakes[0]),
            "TLSv1.3 failed:0 rt=1 start=" + std::to_string(chunks[0].ts_ns) +
                " end=" + std::to_string(CloseTime(chunks)) + " sni=localhost");
  EXPECT_FALSE(r.done_before_close);

  chunks.resize(1);  // nobody answered the ClientHello
  r = RunWhole(chunks);
  ASSERT_EQ(r.handshakes.size(), 1u);
  EXPECT_EQ(r.handshakes[0].version, "unknown");
  EXPECT_TRUE(r.handshakes[0].failed);
  EXPECT_EQ(r.handshakes[0].round_trips, 0u);
}

// BoringSSL, Go and others send a TLS 1.3 client's alert encrypted with the
// handshake keys: an application_data-typed record of 2 + 1 + 16 bytes.
TEST(TlsObserverTest, EncryptedTls13AlertFailsAtClose) {
  auto chunks = Load("tls13_bad_cert");
  ASSERT_EQ(chunks.size(), 3u);
  chunks[2].data = std::string("\x17\x03\x03\x00\x13", 5) + std::string(19, '\x5a');
  ObserverAdapter a;
  testing::Replay(a, chunks);
  EXPECT_TRUE(a.observer.TakeHandshakes().empty());
  EXPECT_FALSE(a.observer.HandshakeDone());
  a.OnClose(CloseTime(chunks));
  auto hs = a.observer.TakeHandshakes();
  ASSERT_EQ(hs.size(), 1u);
  EXPECT_TRUE(hs[0].failed);
  EXPECT_EQ(hs[0].alert, 0);
  EXPECT_EQ(hs[0].version, "TLSv1.3");
  EXPECT_EQ(hs[0].end_ns, chunks[2].ts_ns);
}

// PostgreSQL: SSLRequest, 'S', then TLS on the same stream.
TEST(TlsObserverTest, SkipsPostgresSslRequestPrefix) {
  const std::string ssl_request("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8);
  auto tls = Load("tls13_full");
  const std::string want = Describe(Want(kExpected[3], tls));
  std::vector<Chunk> chunks = {{Direction::kRequest, tls[0].ts_ns - 200, ssl_request},
                               {Direction::kResponse, tls[0].ts_ns - 100, "S"}};
  chunks.insert(chunks.end(), tls.begin(), tls.end());
  for (std::size_t piece : {0, 1, 3}) {
    Result r = RunWhole(chunks, piece);
    EXPECT_EQ(Describe(r.handshakes), std::vector<std::string>{want}) << piece;
    EXPECT_EQ(r.stats.parse_errors, 0u);
  }
  EXPECT_EQ(tls::TlsStartOffset(ssl_request), 8u);
  EXPECT_EQ(tls::TlsStartOffset(ssl_request + tls[0].data), 8u);
}

// MySQL: the server's greeting (a real MariaDB one), the client's SSL
// request packet (32 bytes, sequence 1, CLIENT_SSL), then TLS.
TEST(TlsObserverTest, SkipsMysqlGreetingAndSslRequest) {
  auto mysql = testing::LoadCapture(std::string(MYSQL_TESTDATA_DIR) + "/mariadb_cli.capture");
  ASSERT_EQ(mysql[0].dir, Direction::kResponse);
  ASSERT_EQ(mysql[1].dir, Direction::kRequest);
  std::string ssl_request = mysql[1].data.substr(0, 36);  // the real login packet's head
  ssl_request[0] = 32;
  ssl_request[1] = ssl_request[2] = 0;
  ssl_request[3] = 1;
  ssl_request[5] = static_cast<char>(ssl_request[5] | 0x08);  // CLIENT_SSL (0x800)
  EXPECT_EQ(tls::TlsStartOffset(ssl_request), 36u);

  auto tls = Load("tls12_full");
  const std::string want = Describe(Want(kExpected[0], tls));
  std::vector<Chunk> chunks = {{Direction::kResponse, tls[0].ts_ns - 200, mysql[0].data},
                               {Direction::kRequest, tls[0].ts_ns - 100, ssl_request}};
  chunks.insert(chunks.end(), tls.begin(), tls.end());
  for (std::size_t piece : {0, 1, 5}) {
    Result r = RunWhole(chunks, piece);
    EXPECT_EQ(Describe(r.handshakes), std::vector<std::string>{want}) << piece;
    EXPECT_EQ(r.stats.parse_errors, 0u);
  }
  // Sent together in one write, the prefix is skipped too.
  chunks[1].data += chunks[2].data;
  chunks[1].ts_ns = chunks[2].ts_ns;
  chunks.erase(chunks.begin() + 2);
  EXPECT_EQ(Describe(RunWhole(chunks).handshakes), std::vector<std::string>{want});
}

TEST(TlsObserverTest, NotTlsGivesUpWithOneError) {
  ObserverAdapter a;
  const std::string http = "GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n";
  std::uint64_t ts = 1;
  while (!a.observer.HandshakeDone() && ts < 10000) {
    a.OnData(Direction::kRequest, http, ts);
    a.OnData(Direction::kResponse, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ts + 1);
    ts += 2;
  }
  EXPECT_TRUE(a.observer.HandshakeDone());
  EXPECT_EQ(a.observer.stats().parse_errors, 1u);
  a.OnClose(ts);
  EXPECT_TRUE(a.observer.TakeHandshakes().empty());
}

TEST(TlsObserverTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(12345);
  auto tls = Load("tls12_full");
  for (int round = 0; round < 300; ++round) {
    ObserverAdapter a;
    std::uint64_t ts = 1;
    // Half the rounds start with a real ClientHello, so the garbage hits
    // the framed (not the seeking) paths.
    if (round % 2 == 0) a.OnData(Direction::kRequest, tls[0].data, ts++);
    for (int i = 0; i < 40; ++i) {
      std::string junk(rng() % 300, '\0');
      for (char& c : junk) c = static_cast<char>(rng() % 4 == 0 ? 0x16 : rng() & 0xff);
      const Direction dir = rng() % 2 ? Direction::kRequest : Direction::kResponse;
      if (rng() % 10 == 0) {
        a.OnGap(dir, rng() % 50000);
      } else {
        a.OnData(dir, junk, ts++);
      }
    }
    a.OnClose(ts);
    for (const Handshake& h : a.observer.TakeHandshakes()) EXPECT_GT(h.start_ns, 0u);
  }
}

TEST(TlsObserverTest, ApplicationDataIsSkippedNotBuffered) {
  // A 1.2 connection after the handshake: the observer is done and ignores
  // megabytes of records; before it, huge records are skipped by length.
  auto chunks = Load("tls13_full");
  ObserverAdapter a;
  a.OnData(chunks[0].dir, chunks[0].data, chunks[0].ts_ns);
  a.OnData(chunks[1].dir, chunks[1].data, chunks[1].ts_ns);
  std::string record = std::string("\x17\x03\x03\x48\x00", 5) + std::string(0x4800, 'x');
  for (int i = 0; i < 100; ++i) a.OnData(Direction::kResponse, record, chunks[1].ts_ns);
  a.OnGap(Direction::kResponse, 100);  // inside nothing: framing regained on the next record
  EXPECT_FALSE(a.observer.HandshakeDone());
  a.OnData(chunks[2].dir, chunks[2].data, chunks[2].ts_ns);
  EXPECT_TRUE(a.observer.HandshakeDone());
  EXPECT_EQ(a.observer.TakeHandshakes().size(), 1u);
}

TEST(TlsObserverTest, LooksLikeTlsClientHello) {
  for (const Expected& e : kExpected) {
    auto chunks = Load(e.name);
    EXPECT_TRUE(tls::LooksLikeTlsClientHello(chunks[0].data)) << e.name;
    EXPECT_TRUE(tls::LooksLikeTlsClientHello(chunks[0].data.substr(0, 6))) << e.name;
    EXPECT_FALSE(tls::LooksLikeTlsClientHello(chunks[0].data.substr(0, 5))) << e.name;
    EXPECT_FALSE(tls::LooksLikeTlsClientHello(chunks[1].data)) << e.name << " (server)";
    EXPECT_EQ(tls::TlsStartOffset(chunks[0].data), 0u);
  }
  const std::string startup("\x00\x00\x00\x21\x00\x03\x00\x00user\x00postgres\x00\x00", 23);
  const std::string ssl_request("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8);
  for (const std::string& s :
       {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::string("*1\r\n$4\r\nPING\r\n"),
        std::string("PING\r\n"), startup, ssl_request,
        std::string("\x15\x03\x03\x00\x02\x02\x28", 7),
        std::string("\x16\x03\x05\x00\x40\x01\x00\x00\x3c\x03\x03", 11),  // version 3.5
        std::string("\x16\x03\x01\x40\x01\x01\x00\x00\x3c\x03\x03", 11),  // length > 2^14
        std::string("\x16\x03\x01\x00\x40\x01\x00\x00\x10\x03\x03", 11),  // hello too short
        std::string("\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x09\x03", 11),  // client_version 9.3
        std::string()}) {
    EXPECT_FALSE(tls::LooksLikeTlsClientHello(s)) << ::testing::PrintToString(s);
  }
  EXPECT_EQ(tls::TlsStartOffset("GET / HTTP/1.1\r\n"), std::string_view::npos);
  EXPECT_EQ(tls::TlsStartOffset(startup), std::string_view::npos);
}

}  // namespace
}  // namespace waitscope::protocols
