// The agent's CPU per wire exchange after the ring buffer: kernel socket
// events (open, one data event per syscall) through the ConnectionTracker
// (reassembly, detection, the Redis parser), the WireAggregator and the
// request pipeline's attributor, as `waitscope record` wires them. The
// traffic is what redis-benchmark sends: 50 client connections, GET and SET
// of key:__rand_int__ with 3-byte values, one command per write (-P 1) or
// 16 (-P 16), connections taking turns; and recorded pgbench sessions on 4
// connections. Parser-only throughput is in tools/bench/parsers; this adds
// everything around the parser. Not a test.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate/wire_aggregator.h"
#include "capture.h"  // tests/unit/protocols: capture loading
#include "conn/connection_tracker.h"
#include "findings/request_pipeline.h"
#include "sock_events.h"  // tests/unit: socket events as the ring delivers them

namespace {

using waitscope::ConnectionTracker;
using waitscope::WireAggregator;

constexpr int kConnections = 50;      // redis-benchmark's default -c
constexpr std::uint32_t kPid = 4242;  // the traced client

using Event = waitscope::testing::SockEvent;

Event OpenEvent(std::uint64_t conn_id, int fd, std::uint16_t peer_port = 6379) {
  return waitscope::testing::SockOpenEvent({.conn_id = conn_id,
                                            .pid = kPid,
                                            .fd = fd,
                                            .role = WS_ROLE_CLIENT,
                                            .local_port = static_cast<std::uint16_t>(40000 + fd),
                                            .peer_port = peer_port});
}

Event DataEvent(std::uint64_t conn_id, bool egress, std::uint64_t pos, std::string_view bytes,
                std::uint64_t ts_ns) {
  return waitscope::testing::SockDataEvent({.conn_id = conn_id,
                                            .pid = kPid,
                                            .tid = kPid,
                                            .egress = egress,
                                            .stream_pos = pos,
                                            .bytes = bytes,
                                            .ts_ns = ts_ns});
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.append(s);
  return out;
}

// `rounds` request/reply pairs per connection, `pipeline` commands per write,
// alternating GET and SET rounds; connections take turns, as an event-loop
// client's do.
struct Traffic {
  std::vector<Event> opens;
  std::vector<Event> data;
  std::size_t commands = 0;
};

Traffic MakeTraffic(int pipeline, int rounds) {
  static constexpr std::string_view kGet = "*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n";
  static constexpr std::string_view kSet =
      "*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nxxx\r\n";
  const std::string gets = Repeat(kGet, pipeline), values = Repeat("$3\r\nxxx\r\n", pipeline);
  const std::string sets = Repeat(kSet, pipeline), oks = Repeat("+OK\r\n", pipeline);
  Traffic t;
  std::vector<std::uint64_t> sent(kConnections), received(kConnections);
  std::uint64_t ts = 1'000'000;
  for (int c = 0; c < kConnections; ++c) t.opens.push_back(OpenEvent(c + 1, c + 10));
  for (int r = 0; r < rounds; ++r) {
    const bool get = r % 2 == 0;
    const std::string& request = get ? gets : sets;
    const std::string& reply = get ? values : oks;
    for (int c = 0; c < kConnections; ++c) {
      t.data.push_back(DataEvent(c + 1, true, sent[c], request, ts += 1000));
      sent[c] += request.size();
    }
    for (int c = 0; c < kConnections; ++c) {
      t.data.push_back(DataEvent(c + 1, false, received[c], reply, ts += 1000));
      received[c] += reply.size();
    }
    t.commands += static_cast<std::size_t>(kConnections) * pipeline;
  }
  return t;
}

// A recorded PostgreSQL client session (agent/protocols/postgres/testdata),
// start-up included, replayed on 4 connections that take turns chunk by
// chunk: pgbench -c 4.
Traffic PostgresTraffic(const std::string& capture) {
  using waitscope::protocols::Direction;
  const auto chunks = waitscope::protocols::testing::LoadCapture(std::string(PG_TESTDATA_DIR) +
                                                                 "/" + capture + ".capture");
  constexpr int kPgConnections = 4;
  Traffic t;
  std::vector<std::uint64_t> sent(kPgConnections), received(kPgConnections);
  std::uint64_t ts = 1'000'000;
  for (int c = 0; c < kPgConnections; ++c) t.opens.push_back(OpenEvent(c + 1, c + 10, 5432));
  for (const auto& chunk : chunks) {
    for (int c = 0; c < kPgConnections; ++c) {
      const bool egress = chunk.dir == Direction::kRequest;
      std::uint64_t& pos = egress ? sent[c] : received[c];
      t.data.push_back(DataEvent(c + 1, egress, pos, chunk.data, ts += 1000));
      pos += chunk.data.size();
    }
  }
  return t;
}

void Feed(ConnectionTracker& tracker, const Event& e) {
  tracker.OnEvent(std::span<const std::byte>(e.data(), e.size()));
}

// A pass is one recording: a new tracker and tables, the connections opened,
// every data event delivered, flushed as the poll loop does every 256 events.
// `expected`: the exchanges the traffic holds (0: count what is found).
void Run(benchmark::State& state, const Traffic& traffic, std::size_t expected) {
  std::size_t commands = 0, events = 0;
  for (auto _ : state) {
    WireAggregator wire;
    waitscope::findings::RequestPipeline requests{waitscope::findings::DetectorConfig{}};
    ConnectionTracker tracker(
        wire, {},
        [](std::uint32_t, std::int32_t, std::uint64_t, ConnectionTracker::CopiedStream) {});
    tracker.SetObserver(requests.observer());
    for (const Event& e : traffic.opens) Feed(tracker, e);
    std::uint64_t n = 0;
    for (const Event& e : traffic.data) {
      Feed(tracker, e);
      if (++n % 256 == 0) requests.Flush(n * 1000);
    }
    tracker.Finish();
    const auto rows = wire.Queries();
    std::uint64_t counted = 0;
    for (const auto& q : rows) counted += q.count;
    if (counted == 0 || (expected != 0 && counted != expected)) {
      state.SkipWithError("exchanges lost in the pipeline");
      break;
    }
    commands += counted;
    events += traffic.data.size();
  }
  state.counters["exchanges/s"] =
      benchmark::Counter(static_cast<double>(commands), benchmark::Counter::kIsRate);
  state.counters["ns/exchange"] = benchmark::Counter(
      static_cast<double>(commands), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void BM_Pipeline(benchmark::State& state) {
  const int pipeline = static_cast<int>(state.range(0));
  const Traffic traffic = MakeTraffic(pipeline, 1600 / pipeline);
  Run(state, traffic, traffic.commands);
}

void BM_PipelinePostgres(benchmark::State& state, const char* capture) {
  Run(state, PostgresTraffic(capture), 0);
}

BENCHMARK(BM_Pipeline)->ArgName("pipeline")->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PipelinePostgres, pgbench_simple, "pgbench_simple");
BENCHMARK_CAPTURE(BM_PipelinePostgres, pgbench_prepared, "pgbench_prepared");

}  // namespace

BENCHMARK_MAIN();
