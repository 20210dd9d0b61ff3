// Detectors on recorded event streams: tests/unit/findings/streams/*.jsonl,
// recorded from the shop demo by streams/record.sh (`waitscope record
// --save-events`). Each anti-pattern's stream must give its finding with the
// evidence the demo knows (10 orders per request, a pool of 2...), its fixed
// twin none of that kind; slices of the streams cover one request only,
// requests interleaved on a thread pool, requests that fail and an asyncio
// event loop's requests (counted, not attributed). Plus the writer/reader
// round trip and hostile input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "findings/event_replay.h"
#include "findings/event_stream.h"
#include "findings/request_attributor.h"

namespace waitscope::findings {
namespace {

const std::string kStreams = REPLAY_STREAMS_DIR;

EventStream Load(const std::string& name) {
  std::string path = kStreams + "/" + name + ".jsonl";
  if (!std::filesystem::exists(path)) path += ".gz";  // the larger ones
  Result<EventStream> s = ReadEventStream(path);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(s.value()) : EventStream{};
}

std::vector<FindingRow> OfKind(const Report& r, const std::string& kind) {
  std::vector<FindingRow> out;
  for (const FindingRow& f : r.findings) {
    if (f.kind == kind) out.push_back(f);
  }
  return out;
}

std::string Kinds(const Report& r) {
  std::string out;
  for (const FindingRow& f : r.findings) out += f.kind + " (" + f.endpoint + "); ";
  return out;
}

nlohmann::json Evidence(const FindingRow& f) {
  return nlohmann::json::parse(f.evidence_json);
}

// The one finding of `kind` in the anti-pattern's stream, and none of that
// kind in its fixed twin's.
FindingRow Expect(const std::string& scenario, const std::string& kind) {
  const Report fixed = ReplayEventStream(Load(scenario + ".fixed"), DetectorConfig{});
  EXPECT_TRUE(OfKind(fixed, kind).empty()) << scenario << ".fixed: " << Kinds(fixed);
  const Report bad = ReplayEventStream(Load(scenario), DetectorConfig{});
  const auto found = OfKind(bad, kind);
  EXPECT_EQ(found.size(), 1u) << scenario << ": " << Kinds(bad);
  return found.empty() ? FindingRow{} : found[0];
}

const HttpRow* Endpoint(const Report& r, const std::string& endpoint) {
  for (const HttpRow& h : r.http) {
    if (h.server && h.endpoint == endpoint) return &h;
  }
  return nullptr;
}

TEST(ReplayDetectorsTest, NPlusOne) {
  const FindingRow f = Expect("n_plus_one", "n_plus_one");
  EXPECT_EQ(f.endpoint, "GET /orders");
  const auto ev = Evidence(f);
  EXPECT_EQ(ev["repeats_per_request"], 10) << f.evidence_json;  // the demo's orders per customer
  EXPECT_NE(ev["statement"].get<std::string>().find("order_items"), std::string::npos);
  EXPECT_EQ(ev["protocol"], "postgres");
}

TEST(ReplayDetectorsTest, SyncEmail) {
  const FindingRow f = Expect("sync_email", "sync_io_in_request_path");
  EXPECT_EQ(f.endpoint, "POST /signup");
  const auto ev = Evidence(f);
  EXPECT_GT(ev["share_of_request"].get<double>(), 0.5) << f.evidence_json;
  EXPECT_TRUE(ev.contains("peer")) << f.evidence_json;
}

TEST(ReplayDetectorsTest, PoolExhaustion) {
  const FindingRow f = Expect("pool_exhaustion", "pool_exhaustion");
  const auto ev = Evidence(f);
  EXPECT_EQ(ev["pool_size"], 2) << f.evidence_json;
  EXPECT_EQ(ev["protocol"], "postgres");
}

TEST(ReplayDetectorsTest, CacheMiss) {
  const FindingRow f = Expect("cache_miss", "low_cache_hit_ratio");
  const auto ev = Evidence(f);
  EXPECT_EQ(ev["hit_ratio"], 0.0) << f.evidence_json;
  EXPECT_EQ(ev["protocol"], "redis");
  EXPECT_GE(ev["reads"].get<int>(), 50);
}

TEST(ReplayDetectorsTest, SlowQuery) {
  const FindingRow f = Expect("slow_query", "slow_query");
  const std::string statement = Evidence(f)["statement"];
  EXPECT_NE(statement.find("customers"), std::string::npos) << statement;
  EXPECT_NE(statement.find("email"), std::string::npos) << statement;
}

TEST(ReplayDetectorsTest, TlsHandshake) {
  const FindingRow f = Expect("tls_handshake", "tls_full_handshake");
  const auto ev = Evidence(f);
  EXPECT_EQ(ev["version"], "TLSv1.2") << f.evidence_json;
  EXPECT_EQ(ev["full_share"], 1.0);
  EXPECT_EQ(ev["role"], "server");
}

TEST(ReplayDetectorsTest, ConnectionChurn) {
  const FindingRow f = Expect("connection_churn", "connection_churn");
  EXPECT_EQ(f.endpoint, "GET /profile");
  EXPECT_NEAR(Evidence(f)["connects_per_request"].get<double>(), 1.0, 0.05) << f.evidence_json;
}

// --- slices of recorded streams --------------------------------------------

bool IsServerExchange(const StreamEvent& e) {
  const auto* x = std::get_if<StreamExchange>(&e);
  return x && x->origin.server;
}

struct Attribution {
  std::vector<RequestRecord> records;
  AttributorStats stats;
};

// What the attributor itself makes of a stream.
Attribution Attribute(const EventStream& s) {
  Attribution out;
  RequestAttributor a([&](RequestRecord&& r) { out.records.push_back(std::move(r)); }, nullptr);
  for (const StreamEvent& e : s.events) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, WaitEvent>) a.OnWait(v);
          if constexpr (std::is_same_v<T, StreamExchange>) a.OnExchange(v.origin, v.exchange);
          if constexpr (std::is_same_v<T, ClientConnectionUse>) a.OnClientConnectionUse(v);
          if constexpr (std::is_same_v<T, StreamHandshake>) a.OnTlsHandshake(v.origin, v.handshake);
          if constexpr (std::is_same_v<T, StreamFlush>) a.Flush(v.now_ns);
        },
        e);
  }
  a.Finish();
  out.stats = a.stats();
  return out;
}

// Every RequestRecord of a stream.
std::vector<RequestRecord> Records(const EventStream& s) {
  return Attribute(s).records;
}

// The stream up to its n-th server response.
EventStream FirstRequests(const EventStream& full, int n) {
  EventStream out;
  for (const StreamEvent& e : full.events) {
    out.events.push_back(e);
    if (IsServerExchange(e) && --n == 0) break;
  }
  return out;
}

TEST(ReplaySliceTest, FirstRequestOnlyIsNotManyRequests) {
  // One request of 10 repeats is no N+1 pattern of the endpoint, even when
  // one request is enough for per-endpoint findings...
  const EventStream one = FirstRequests(Load("n_plus_one"), 1);
  DetectorConfig any;
  any.min_requests = 1;
  for (const DetectorConfig& config : {DetectorConfig{}, any}) {
    const Report r = ReplayEventStream(one, config);
    const HttpRow* h = Endpoint(r, "GET /orders");
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->count, 1u);
    EXPECT_TRUE(r.findings.empty()) << Kinds(r);
  }
  // ... although that request was attributed whole: 1 + 10 statements.
  const std::vector<RequestRecord> records = Records(one);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].statements.size(), 11u);
  // Two such requests are the pattern.
  const auto found =
      OfKind(ReplayEventStream(FirstRequests(Load("n_plus_one"), 2), any), "n_plus_one");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(Evidence(found[0])["repeats_per_request"], 10);
}

TEST(ReplaySliceTest, ThreadPoolRequestsAreAttributedPerThread) {
  const EventStream s = Load("n_plus_one");
  // Which thread completed each client exchange (connection, end time).
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint32_t> thread_of;
  for (const StreamEvent& e : s.events) {
    if (const auto* x = std::get_if<StreamExchange>(&e); x && !x->origin.server)
      thread_of[{x->origin.conn_id, x->exchange.response_end_ns}] = x->origin.tid;
  }
  std::vector<RequestRecord> orders;
  for (RequestRecord& r : Records(s)) {
    if (r.endpoint == "GET /orders") orders.push_back(std::move(r));
  }
  ASSERT_GE(orders.size(), 5u);
  std::set<std::uint32_t> threads;
  bool overlap = false;
  for (const RequestRecord& r : orders) {
    threads.insert(r.tid);
    EXPECT_TRUE(r.attributed);
    EXPECT_EQ(r.statements.size(), 11u) << "request on thread " << r.tid;
    for (const StatementSpan& st : r.statements) {
      EXPECT_EQ((thread_of[{st.conn_id, st.end_ns}]), r.tid) << st.statement;
    }
    for (const RequestRecord& o : orders) {
      if (o.tid != r.tid && o.start_ns < r.end_ns && r.start_ns < o.end_ns) overlap = true;
    }
  }
  // The demo's worker pool: several threads, serving at the same time.
  EXPECT_GE(threads.size(), 2u);
  EXPECT_TRUE(overlap) << "no two requests of different threads overlap in this recording";
}

// The demo's asyncio listener: one thread serves POST /newsletter for 4
// keep-alive clients. Its requests overlap, so the thread is an event loop:
// each request is counted, none is attributed once that is known, and its
// blocking waits are event-loop blocks instead.
struct LoopRun {
  AttributorStats stats;
  std::vector<RequestRecord> newsletter;
  std::set<std::uint32_t> threads;
  std::size_t attributed = 0;
};

LoopRun NewsletterRequests(const EventStream& s) {
  Attribution a = Attribute(s);
  LoopRun run{a.stats, {}, {}, 0};
  for (RequestRecord& r : a.records) {
    if (r.endpoint != "POST /newsletter") continue;
    run.threads.insert(r.tid);
    if (r.attributed) ++run.attributed;
    run.newsletter.push_back(std::move(r));
  }
  return run;
}

std::size_t ServerExchanges(const EventStream& s, const std::string& endpoint) {
  std::size_t n = 0;
  for (const StreamEvent& e : s.events) {
    const auto* x = std::get_if<StreamExchange>(&e);
    if (x && x->origin.server && x->exchange.statement == endpoint) ++n;
  }
  return n;
}

TEST(ReplaySliceTest, EventLoopRequestsAreCountedNotAttributed) {
  for (const char* name : {"event_loop_blocked", "event_loop_blocked.fixed"}) {
    SCOPED_TRACE(name);
    const EventStream s = Load(name);
    const LoopRun run = NewsletterRequests(s);
    const std::size_t exchanges = ServerExchanges(s, "POST /newsletter");
    ASSERT_GE(exchanges, 5u);
    // Counted: every response the stream holds is a request, in the report too.
    EXPECT_EQ(run.newsletter.size(), exchanges);
    const Report report = ReplayEventStream(s, DetectorConfig{});
    const HttpRow* h = Endpoint(report, "POST /newsletter");
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->count, exchanges);
    // One thread, and the attributor saw it as an event loop.
    EXPECT_EQ(run.threads.size(), 1u);
    EXPECT_EQ(run.stats.event_loop_threads, 1u);
    EXPECT_EQ(run.stats.unattributed_requests, exchanges - run.attributed);
    // Not attributed: no spans. Only requests settled before the first
    // overlap was seen can be attributed, and they ended before the others.
    std::uint64_t first_unattributed_end = UINT64_MAX;
    std::uint64_t last_attributed_end = 0;
    for (const RequestRecord& r : run.newsletter) {
      if (r.attributed) {
        last_attributed_end = std::max(last_attributed_end, r.end_ns);
        continue;
      }
      first_unattributed_end = std::min(first_unattributed_end, r.end_ns);
      EXPECT_TRUE(r.waits.empty());
      EXPECT_TRUE(r.statements.empty());
      EXPECT_TRUE(r.connects.empty());
    }
    EXPECT_LT(last_attributed_end, first_unattributed_end);
    EXPECT_GE(exchanges - run.attributed, exchanges / 2) << run.attributed << " attributed";
  }
  // With the fix, requests overlap from the first: none is attributed.
  EXPECT_EQ(NewsletterRequests(Load("event_loop_blocked.fixed")).attributed, 0u);
}

TEST(ReplayDetectorsTest, EventLoopBlocked) {
  const FindingRow f = Expect("event_loop_blocked", "event_loop_blocked");
  EXPECT_EQ(f.severity, Severity::kCritical);  // blocks of 10x the threshold
  // Each mail's block is followed by its own response: the finding names it.
  EXPECT_EQ(f.endpoint, "POST /newsletter");
  const auto ev = Evidence(f);
  // smtplib with a timeout waits in poll() on its socket to the sink, which
  // answers DATA after 100 ms.
  EXPECT_EQ(ev["class"], "net") << f.evidence_json;
  EXPECT_EQ(ev["syscall"], "poll");
  EXPECT_GE(ev["longest_ms"].get<double>(), 90.0);
  EXPECT_GE(ev["total_ms"].get<double>(), 90.0 * ev["count"].get<double>());
  // The target is the peer the loop thread connected to for each mail.
  const EventStream s = Load("event_loop_blocked");
  std::uint32_t loop_tid = 0;
  for (const StreamEvent& e : s.events) {
    const auto* x = std::get_if<StreamExchange>(&e);
    if (x && x->origin.server) loop_tid = x->origin.tid;
  }
  std::set<std::string> peers;
  for (const StreamEvent& e : s.events) {
    const auto* c = std::get_if<ClientConnectionUse>(&e);
    if (c && c->tid == loop_tid) peers.insert(c->peer);
  }
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(ev["target"], *peers.begin());
  // Every request served once the thread was known as a loop sent a mail:
  // one block of ~100 ms each (the rest of the SMTP dialogue takes well
  // under the 10 ms threshold).
  const LoopRun run = NewsletterRequests(s);
  EXPECT_GE(ev["count"].get<std::size_t>(), run.newsletter.size() - run.attributed);
  EXPECT_LE(ev["count"].get<std::size_t>(), run.newsletter.size());
}

TEST(ReplaySliceTest, RequestsThatErrorAreCountedAndAttributed) {
  // sync_email while six signups fail with 503 (non-ASCII address, no
  // SMTPUTF8 at the sink): after the INSERT and the SMTP greeting.
  const EventStream s = Load("signup_errors");
  const Report r = ReplayEventStream(s, DetectorConfig{});
  const HttpRow* h = Endpoint(r, "POST /signup");
  ASSERT_NE(h, nullptr);
  std::map<int, std::uint64_t> status(h->status.begin(), h->status.end());
  EXPECT_EQ(status[503], 6u);
  EXPECT_GT(status[201], 0u);
  int errors = 0;
  for (const RequestRecord& rec : Records(s)) {
    if (rec.endpoint != "POST /signup" || !rec.error) continue;
    ++errors;
    EXPECT_EQ(rec.status, 503);
    EXPECT_TRUE(rec.attributed);
    EXPECT_GE(rec.statements.size(), 1u);  // the INSERT before the mail failed
  }
  EXPECT_EQ(errors, 6);
  // The successful signups still make the sync I/O finding.
  EXPECT_EQ(OfKind(r, "sync_io_in_request_path").size(), 1u) << Kinds(r);
}

// --- format ----------------------------------------------------------------

class RecordingObserver : public WireObserver {
 public:
  void OnExchange(const ExchangeOrigin&, const protocols::Exchange&) override { ++calls; }
  void OnClientConnectionUse(const ClientConnectionUse&) override { ++calls; }
  void OnTlsHandshake(const ExchangeOrigin&, const protocols::tls::Handshake&) override { ++calls; }
  int calls = 0;
};

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name;
}

void RoundTrip(const std::string& file) {
  RecordingObserver next;
  auto opened = EventStreamWriter::Open(file, "1.2.3", &next);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EventStreamWriter& w = *opened.value();

  auto stack = std::make_shared<const std::vector<Frame>>(
      std::vector<Frame>{{"main", "/usr/bin/app"}, {"pq_exec \"q\"\n", "/lib/libpq.so"}});
  WaitEvent w1{7, 8, 1000, 400, "recvfrom", "10.0.0.1:5432", WaitClass::kDb, stack};
  WaitEvent w2{7, 9, 2000, 500, "futex", "-", WaitClass::kLock, stack};
  WaitEvent w3{7, 9, 3000, 600, "fsync", "/var/log/x", WaitClass::kDisk, nullptr};
  w.OnWait(w1);
  w.OnWait(w2);
  w.OnWait(w3);
  protocols::Exchange x;
  x.protocol = protocols::Protocol::kHttp1;
  x.statement = "GET /orders/{id}";
  x.request_end_ns = 10;
  x.response_end_ns = 20;
  x.answered = false;
  x.error = true;
  x.error_code = "503";
  x.rows = 0;
  x.cache_reads = 2;
  x.cache_hits = 1;
  x.http_method = "GET";
  x.http_route = "/orders/{id}";
  x.http_status = 503;
  const ExchangeOrigin server{7, true, "10.0.0.9:40000", "http", 8, 99};
  w.OnExchange(server, x);
  w.OnExchange(ExchangeOrigin{7, false, "", "postgres", 8, 100}, protocols::Exchange{});
  w.OnClientConnectionUse(ClientConnectionUse{7, 8, 101, "10.0.0.1:6379", "redis", 30, 5});
  protocols::tls::Handshake h;
  h.version = "TLSv1.2";
  h.resumed = true;
  h.failed = true;
  h.alert = 40;
  h.start_ns = 40;
  h.end_ns = 50;
  h.round_trips = 2;
  h.sni = "secret.example";
  w.OnTlsHandshake(ExchangeOrigin{7, true, "10.0.0.9:40001", "tls", 8, 102}, h);
  w.OnFlush(60);
  ASSERT_TRUE(w.Close(1.5).ok());
  EXPECT_EQ(next.calls, 4);  // every wire call passed on

  Result<EventStream> read = ReadEventStream(file);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->waitscope_version, "1.2.3");
  const auto& ev = read->events;
  ASSERT_EQ(ev.size(), 9u);
  const auto& r1 = std::get<WaitEvent>(ev[0]);
  const auto& r2 = std::get<WaitEvent>(ev[1]);
  EXPECT_EQ(r1.pid, 7u);
  EXPECT_EQ(r1.tid, 8u);
  EXPECT_EQ(r1.end_ns, 1000u);
  EXPECT_EQ(r1.blocked_ns, 400u);
  EXPECT_EQ(r1.syscall, "recvfrom");
  EXPECT_EQ(r1.target, "10.0.0.1:5432");
  EXPECT_EQ(r1.wait_class, WaitClass::kDb);
  ASSERT_TRUE(r1.frames);
  EXPECT_EQ(*r1.frames, *stack);
  EXPECT_EQ(r1.frames, r2.frames);  // one stack, shared as the collector shares it
  EXPECT_EQ(r2.wait_class, WaitClass::kLock);
  EXPECT_FALSE(std::get<WaitEvent>(ev[2]).frames);
  const auto& rx = std::get<StreamExchange>(ev[3]);
  EXPECT_EQ(rx.origin.pid, 7u);
  EXPECT_TRUE(rx.origin.server);
  EXPECT_EQ(rx.origin.peer, server.peer);
  EXPECT_EQ(rx.origin.protocol, "http");
  EXPECT_EQ(rx.origin.tid, 8u);
  EXPECT_EQ(rx.origin.conn_id, 99u);
  EXPECT_EQ(rx.exchange.protocol, protocols::Protocol::kHttp1);
  EXPECT_EQ(rx.exchange.statement, x.statement);
  EXPECT_EQ(rx.exchange.request_end_ns, 10u);
  EXPECT_EQ(rx.exchange.response_end_ns, 20u);
  EXPECT_FALSE(rx.exchange.answered);
  EXPECT_TRUE(rx.exchange.error);
  EXPECT_EQ(rx.exchange.error_code, "503");
  EXPECT_EQ(rx.exchange.rows, 0);
  EXPECT_EQ(rx.exchange.cache_reads, 2u);
  EXPECT_EQ(rx.exchange.cache_hits, 1u);
  EXPECT_EQ(rx.exchange.http_method, "GET");
  EXPECT_EQ(rx.exchange.http_route, "/orders/{id}");
  EXPECT_EQ(rx.exchange.http_status, 503);
  const auto& unix_x = std::get<StreamExchange>(ev[4]);
  EXPECT_EQ(unix_x.origin.peer, "");
  EXPECT_EQ(unix_x.exchange.rows, -1);
  EXPECT_TRUE(unix_x.exchange.answered);  // the default, not written
  EXPECT_EQ(unix_x.exchange.protocol, protocols::Protocol::kUnknown);
  const auto& u = std::get<ClientConnectionUse>(ev[5]);
  EXPECT_EQ(u.conn_id, 101u);
  EXPECT_EQ(u.peer, "10.0.0.1:6379");
  EXPECT_EQ(u.protocol, "redis");
  EXPECT_EQ(u.opened_ns, 30u);
  EXPECT_EQ(u.connect_ns, 5u);
  const auto& rh = std::get<StreamHandshake>(ev[6]);
  EXPECT_EQ(rh.origin.conn_id, 102u);
  EXPECT_EQ(rh.handshake.version, "TLSv1.2");
  EXPECT_TRUE(rh.handshake.resumed);
  EXPECT_TRUE(rh.handshake.failed);
  EXPECT_FALSE(rh.handshake.hello_retry);
  EXPECT_EQ(rh.handshake.alert, 40);
  EXPECT_EQ(rh.handshake.start_ns, 40u);
  EXPECT_EQ(rh.handshake.end_ns, 50u);
  EXPECT_EQ(rh.handshake.round_trips, 2u);
  EXPECT_EQ(rh.handshake.sni, "");  // never written
  EXPECT_EQ(std::get<StreamFlush>(ev[7]).now_ns, 60u);
  EXPECT_DOUBLE_EQ(std::get<StreamEnd>(ev[8]).duration_s, 1.5);
}

TEST(EventStreamTest, RoundTripPlain) {
  RoundTrip(TempPath("round_trip.jsonl"));
}
TEST(EventStreamTest, RoundTripGzip) {
  RoundTrip(TempPath("round_trip.jsonl.gz"));
}

TEST(EventStreamTest, OpenFailsWithAReadableError) {
  auto w = EventStreamWriter::Open("/nonexistent-dir/x.jsonl", "1", nullptr);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("/nonexistent-dir/x.jsonl"), std::string::npos);
}

std::string ReadError(const std::string& name, const std::string& content) {
  const std::string path = TempPath(name);
  std::ofstream(path, std::ios::binary) << content;
  Result<EventStream> r = ReadEventStream(path);
  return r.ok() ? std::string() : r.error().message;
}

TEST(EventStreamTest, HostileInputIsAnErrorWithFileAndLine) {
  const std::string header =
      R"({"type":"header","format":"waitscope-events","version":1,"waitscope":"x"})"
      "\n";
  const std::string wait =
      R"({"type":"wait","pid":1,"tid":1,"end_ns":5,"blocked_ns":1,"syscall":"read","target":"-","class":"disk"})";
  struct Case {
    std::string content;
    int line;  // 0: no line number in the message
  };
  const std::vector<Case> cases = {
      {"", 0},
      {"\n\n", 0},
      {"garbage\n", 1},
      {"\x1f\x8b\x08\x00garbage", 1},  // a gzip header, then nonsense
      {R"({"type":"wait"})"
       "\n",
       1},
      {R"({"type":"header","format":"other","version":1})"
       "\n",
       1},
      {R"({"type":"header","format":"waitscope-events","version":99})"
       "\n",
       1},
      {header + wait.substr(0, wait.size() / 2), 2},  // truncated last line
      {header + wait + "\n" + wait.substr(0, 30) + "\n" + wait + "\n", 3},
      {header + "[1,2,3]\n", 2},
      {header + R"({"type":"nope"})" + "\n", 2},
      {header + R"({"type":42})" + "\n", 2},
      {header + header, 2},
      {header +
           R"({"type":"wait","pid":-1,"tid":1,"end_ns":5,"blocked_ns":1,"syscall":"read","target":"-","class":"disk"})" +
           "\n",
       2},
      {header +
           R"({"type":"wait","pid":99999999999,"tid":1,"end_ns":5,"blocked_ns":1,"syscall":"read","target":"-","class":"disk"})" +
           "\n",
       2},
      {header +
           R"({"type":"wait","pid":1,"tid":1,"end_ns":5,"blocked_ns":1,"syscall":"read","target":"-","class":"weird"})" +
           "\n",
       2},
      {header +
           R"({"type":"wait","pid":1,"tid":1,"end_ns":5,"blocked_ns":1,"syscall":7,"target":"-","class":"disk"})" +
           "\n",
       2},
      {header +
           R"({"type":"wait","pid":1,"tid":1,"end_ns":5,"blocked_ns":1,"syscall":"read","target":"-","class":"disk","stack":3})" +
           "\n",
       2},
      {header + R"({"type":"stack","id":1,"frames":[["a"]]})" + "\n", 2},
      {header + R"({"type":"stack","id":1,"frames":"x"})" + "\n", 2},
      {header + R"({"type":"stack","id":1,"frames":[]})" + "\n" +
           R"({"type":"stack","id":1,"frames":[]})" + "\n",
       3},
      {header +
           R"({"type":"exchange","pid":1,"tid":1,"peer":"","protocol":"x","conn":1,"parser":"smtp","statement":"","request_end_ns":1,"response_end_ns":2})" +
           "\n",
       2},
      {header +
           R"({"type":"exchange","pid":1,"tid":1,"peer":"","protocol":"x","conn":1,"parser":"http","statement":"","request_end_ns":1,"response_end_ns":2,"http_status":1e40})" +
           "\n",
       2},
      {header +
           R"({"type":"tls","pid":1,"tid":1,"peer":"","protocol":"tls","conn":1,"version":"x","start_ns":1,"end_ns":2,"alert":300})" +
           "\n",
       2},
      {header + R"({"type":"flush"})" + "\n", 2},
      {header + R"({"type":"end","duration_s":"long"})" + "\n", 2},
      {header + std::string(100, '[') + "\n", 2},
      {header + std::string(2'000'000, '[') + "\n", 2},
      {header + std::string(2 << 20, 'x') + "\n", 2},
      {header + std::string("{\"type\":\"fl\0ush\"}\n", 18), 2},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string name = "hostile_" + std::to_string(i) + ".jsonl";
    const std::string err = ReadError(name, cases[i].content);
    ASSERT_FALSE(err.empty()) << "case " << i << " was accepted";
    const std::string where =
        cases[i].line ? name + ":" + std::to_string(cases[i].line) + ": " : name;
    EXPECT_NE(err.find(where), std::string::npos) << "case " << i << ": " << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << "case " << i << ": one line: " << err;
  }
}

TEST(EventStreamTest, TruncatedGzipIsAnError) {
  const std::string path = TempPath("cut.jsonl.gz");
  {
    auto w = EventStreamWriter::Open(path, "1", nullptr);
    ASSERT_TRUE(w.ok());
    for (std::uint64_t i = 0; i < 2000; ++i) w.value()->OnFlush(i * 7919);
    ASSERT_TRUE(w.value()->Close(1).ok());
  }
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size / 2);
  Result<EventStream> r = ReadEventStream(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cut.jsonl.gz:"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace waitscope::findings
