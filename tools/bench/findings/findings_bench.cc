// Replays synthetic but realistic request records through FindingsEngine and
// RequestProfileData: 20 endpoints on 8 worker threads, 6 statements each
// over a pool of 10 connections, 30% of requests in an N+1 loop (one
// statement 20 times), every wait with an 8-frame user stack, some lock and
// disk waits. Records are pre-built; each replay shifts their times forward
// so the pool sweep sees a moving clock, as in a live recording.
//
//   findings_bench --benchmark_filter=AddRequest
//   findings_bench --benchmark_filter=Pipeline   (events -> attribution -> findings)
//   findings_bench --benchmark_filter=Replay     (a recorded stream, see below)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "findings/event_replay.h"
#include "findings/event_stream.h"
#include "findings/findings_engine.h"
#include "findings/request_pipeline.h"
#include "findings/request_profiles.h"

namespace waitscope::findings {
namespace {

constexpr int kEndpoints = 20;
constexpr int kStatements = 6;
constexpr int kRecords = 2000;
constexpr std::uint64_t kUs = 1000;

std::vector<Frame> Stack(int endpoint, int leaf) {
  std::vector<Frame> f;
  for (const char* name : {"_start", "__libc_start_main", "main", "Server::Run()", "Worker::Loop()",
                           "Router::Dispatch(Request const&)"}) {
    f.push_back(Frame{name, "/usr/bin/app"});
  }
  f.push_back(
      Frame{"handlers::Endpoint" + std::to_string(endpoint) + "(Request const&)", "/usr/bin/app"});
  f.push_back(
      Frame{leaf == 0 ? "pq::Connection::Execute(std::string const&)" : "std::mutex::lock()",
            leaf == 0 ? "/usr/lib/libpq.so.5" : "/usr/lib/libstdc++.so.6"});
  return f;
}

struct Workload {
  std::vector<RequestRecord> records;
  std::uint64_t span_ns = 0;  // time covered by one pass
};

Workload MakeWorkload() {
  std::mt19937 rng(7);
  Workload w;
  std::vector<std::uint64_t> thread_free(8, 0);
  std::uint64_t now = 0;
  for (int i = 0; i < kRecords; ++i) {
    const int ep = static_cast<int>(rng() % kEndpoints);
    const auto tid = static_cast<std::size_t>(i % 8);
    now += 100 * kUs;
    RequestRecord r;
    r.pid = 4242;
    r.tid = static_cast<std::uint32_t>(1000 + tid);
    r.endpoint = (ep % 3 == 0 ? "POST /api/v1/resource" : "GET /api/v1/resource") +
                 std::to_string(ep) + "/{id}";
    r.status = 200;
    r.start_ns = std::max(now, thread_free[tid]);
    std::uint64_t t = r.start_ns + 200 * kUs;
    r.cpu_ns = 200 * kUs;
    const bool n_plus_one = rng() % 10 < 3;
    const std::uint64_t conn = rng() % 10;
    if (rng() % 4 == 0) {
      WaitSpan lock{.wait_class = WaitClass::kLock, .syscall = "futex", .target = "-"};
      lock.start_ns = t;
      lock.blocked_ns = 300 * kUs;
      t += lock.blocked_ns;
      lock.end_ns = t;
      lock.frames = Stack(ep, 1);
      r.waits.push_back(std::move(lock));
    }
    for (int s = 0; s < kStatements; ++s) {
      const int runs = n_plus_one && s == 2 ? 20 : 1;
      for (int k = 0; k < runs; ++k) {
        StatementSpan st{.protocol = "postgres",
                         .peer = "10.1.2.3:5432",
                         .statement = "SELECT col_a, col_b, col_c FROM table_" +
                                      std::to_string(ep) + "_" + std::to_string(s) +
                                      " WHERE id = ? AND tenant_id = ?",
                         .conn_id = conn};
        st.start_ns = t;
        t += 150 * kUs;
        st.end_ns = t;
        WaitSpan wait{.wait_class = WaitClass::kDb,
                      .syscall = "recvfrom",
                      .target = st.peer,
                      .protocol = st.protocol,
                      .statement = st.statement};
        wait.start_ns = st.start_ns + 10 * kUs;
        wait.end_ns = st.end_ns;
        wait.blocked_ns = wait.end_ns - wait.start_ns;
        wait.frames = Stack(ep, 0);
        r.statements.push_back(std::move(st));
        r.waits.push_back(std::move(wait));
        r.cpu_ns += 10 * kUs;
      }
    }
    if (ep == 4) {
      WaitSpan disk{
          .wait_class = WaitClass::kDisk, .syscall = "fsync", .target = "/var/lib/app/journal"};
      disk.start_ns = t;
      disk.blocked_ns = 2000 * kUs;
      t += disk.blocked_ns;
      disk.end_ns = t;
      disk.frames = Stack(ep, 1);
      r.waits.push_back(std::move(disk));
    }
    r.end_ns = t;
    thread_free[tid] = t;
    w.records.push_back(std::move(r));
  }
  for (const RequestRecord& r : w.records) w.span_ns = std::max(w.span_ns, r.end_ns);
  w.span_ns += 1'000'000;
  return w;
}

void Shift(RequestRecord& r, std::uint64_t d) {
  r.start_ns += d;
  r.end_ns += d;
  for (StatementSpan& s : r.statements) s.start_ns += d, s.end_ns += d;
  for (WaitSpan& w : r.waits) w.start_ns += d, w.end_ns += d;
}

template <bool kEngine, bool kProfile>
void BM_AddRequest(benchmark::State& state) {
  Workload w = MakeWorkload();
  FindingsEngine engine{DetectorConfig{}};
  RequestProfileData profile;
  std::size_t i = 0;
  for (auto _ : state) {
    RequestRecord& r = w.records[i];
    if constexpr (kEngine) engine.AddRequest(r);
    if constexpr (kProfile) profile.AddRequest(r);
    if (++i == w.records.size()) {
      i = 0;
      state.PauseTiming();
      for (RequestRecord& rec : w.records) Shift(rec, w.span_ns);
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  benchmark::DoNotOptimize(engine.Finish(Report{}, 1).size());
}
BENCHMARK(BM_AddRequest<true, true>)->Name("AddRequest/engine+profile");
BENCHMARK(BM_AddRequest<true, false>)->Name("AddRequest/engine");
BENCHMARK(BM_AddRequest<false, true>)->Name("AddRequest/profile");

// The same requests as the events user space really receives — each wait
// (WS_EV_WAIT), each client exchange and the server exchange, tagged with
// their thread — through the whole request stage: attribution, detectors and
// profile, settling every 100 requests as the poll loop does.
struct SyntheticEvents {
  std::vector<WaitEvent> waits;                                           // in time order
  std::vector<std::pair<ExchangeOrigin, protocols::Exchange>> exchanges;  // in completion order
};

SyntheticEvents ToEvents(const Workload& w) {
  SyntheticEvents e;
  for (const RequestRecord& r : w.records) {
    for (const WaitSpan& ws : r.waits) {
      WaitEvent ev;
      ev.pid = r.pid;
      ev.tid = r.tid;
      ev.end_ns = ws.end_ns;
      ev.blocked_ns = ws.blocked_ns;
      ev.syscall = ws.syscall;
      ev.target = ws.wait_class == WaitClass::kDb ? "-" : ws.target;  // libpq parks in poll()
      ev.wait_class = ws.wait_class == WaitClass::kDb ? WaitClass::kPoll : ws.wait_class;
      ev.frames = std::make_shared<const std::vector<Frame>>(ws.frames);
      e.waits.push_back(std::move(ev));
    }
    for (const StatementSpan& st : r.statements) {
      protocols::Exchange ex;
      ex.protocol = protocols::Protocol::kPostgres;
      ex.statement = st.statement;
      ex.request_end_ns = st.start_ns;
      ex.response_end_ns = st.end_ns;
      e.exchanges.emplace_back(
          ExchangeOrigin{r.pid, false, st.peer, st.protocol, r.tid, st.conn_id}, std::move(ex));
    }
    protocols::Exchange http;
    http.protocol = protocols::Protocol::kHttp1;
    http.statement = r.endpoint;
    http.http_status = r.status;
    http.request_end_ns = r.start_ns;
    http.response_end_ns = r.end_ns;
    e.exchanges.emplace_back(ExchangeOrigin{r.pid, true, "10.9.9.9:40000", "http", r.tid, 1},
                             std::move(http));
  }
  return e;
}

void BM_Pipeline(benchmark::State& state) {
  const Workload w = MakeWorkload();
  const SyntheticEvents events = ToEvents(w);
  RequestPipeline pipeline{DetectorConfig{}};
  std::uint64_t offset = 0;
  std::int64_t requests = 0;
  for (auto _ : state) {
    // One pass: all of a pass's waits, then its exchanges (as from the two
    // ring buffers), settling as it goes.
    std::size_t wi = 0;
    std::size_t done = 0;
    for (const auto& [origin, exchange] : events.exchanges) {
      while (wi < events.waits.size() && events.waits[wi].end_ns <= exchange.response_end_ns) {
        WaitEvent ev = events.waits[wi++];
        ev.end_ns += offset;
        pipeline.OnWait(ev);
      }
      protocols::Exchange ex = exchange;
      ex.request_end_ns += offset;
      ex.response_end_ns += offset;
      pipeline.observer()->OnExchange(origin, ex);
      if (origin.server && ++done % 100 == 0) pipeline.Flush(ex.response_end_ns + 100'000'000);
    }
    requests += static_cast<std::int64_t>(done);
    offset += w.span_ns;
  }
  state.SetItemsProcessed(requests);
  Report report;
  pipeline.TakeWindow(report, /*last=*/true);
  benchmark::DoNotOptimize(report.findings.size());
}
BENCHMARK(BM_Pipeline)->Name("Pipeline/events->findings")->Unit(benchmark::kMillisecond);

// Finish over a full pass of records plus 120 query rows: run once per
// report, so milliseconds are fine; this shows it is not seconds.
void BM_Finish(benchmark::State& state) {
  const Workload w = MakeWorkload();
  FindingsEngine engine{DetectorConfig{}};
  for (const RequestRecord& r : w.records) engine.AddRequest(r);
  Report report;
  for (int ep = 0; ep < kEndpoints; ++ep) {
    for (int s = 0; s < kStatements; ++s) {
      QueryRow q;
      q.pid = 4242;
      q.protocol = "postgres";
      q.peer = "10.1.2.3:5432";
      q.statement = "SELECT col_a, col_b, col_c FROM table_" + std::to_string(ep) + "_" +
                    std::to_string(s) + " WHERE id = ? AND tenant_id = ?";
      q.count = 1000;
      q.latency_us.p95 = 200;
      q.total_ns = 150'000'000;
      report.queries.push_back(q);
    }
  }
  std::size_t n = 0;
  for (auto _ : state) n += engine.Finish(report, 10).size();
  benchmark::DoNotOptimize(n);
}
BENCHMARK(BM_Finish)->Unit(benchmark::kMillisecond);

// A stream recorded by `waitscope record --save-events` (default: the shop
// demo's n_plus_one fixture; FINDINGS_BENCH_STREAM=FILE for another) through
// everything a live trace runs after the parsers: the wire aggregator,
// attribution, detectors and profile. Each pass is the whole stream shifted
// after the previous one, so the same threads serve new requests; items are
// the server requests (HTTP exchanges) replayed.
void BM_Replay(benchmark::State& state) {
  const char* env = std::getenv("FINDINGS_BENCH_STREAM");
  const std::string path = env ? env : FINDINGS_BENCH_DEFAULT_STREAM;
  Result<EventStream> stream = ReadEventStream(path);
  if (!stream.ok()) {
    state.SkipWithError(stream.error().message.c_str());
    return;
  }
  std::int64_t per_pass = 0;
  for (const StreamEvent& e : stream->events) {
    if (const auto* x = std::get_if<StreamExchange>(&e)) per_pass += x->origin.server ? 1 : 0;
  }
  const auto [first, last] = StreamTimeSpan(*stream);
  // Past the settle margin and the attributor's horizon, so passes never overlap.
  const std::uint64_t pass_ns = last - first + 61'000'000'000ULL;
  EventReplayer replayer{DetectorConfig{}};
  std::uint64_t offset = 0;
  std::int64_t requests = 0;
  for (auto _ : state) {
    for (const StreamEvent& e : stream->events) replayer.Feed(e, offset);
    requests += per_pass;
    offset += pass_ns;
  }
  state.SetItemsProcessed(requests);
  state.counters["requests_per_pass"] = static_cast<double>(per_pass);
  const Report report = replayer.Finish(1);
  // Every replayed request reached the tables (a check that passes did not collide).
  std::uint64_t served = 0;
  for (const HttpRow& h : report.http) served += h.server ? h.count : 0;
  if (served != static_cast<std::uint64_t>(requests)) state.SkipWithError("requests were lost");
  state.counters["findings"] = static_cast<double>(report.findings.size());
}
BENCHMARK(BM_Replay)->Name("Replay/recorded stream")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace waitscope::findings

BENCHMARK_MAIN();
