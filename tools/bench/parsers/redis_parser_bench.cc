// Redis parser throughput on the redis-benchmark captures (pipelined, 16
// commands per write) and the redis-cli session capture. Reports commands
// (exchanges) per second and bytes per second. Not a test.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "capture.h"  // tests/unit/protocols: capture loading and replay
#include "protocols/redis/normalize.h"
#include "protocols/redis/parser.h"

namespace {

using waitscope::protocols::MakeRedisParser;
using waitscope::protocols::testing::Chunk;
using waitscope::protocols::testing::LoadCapture;

void BM_Replay(benchmark::State& state, const char* file) {
  const std::vector<Chunk> chunks = LoadCapture(std::string(PROTO_TESTDATA_DIR) + "/" + file);
  std::size_t bytes = 0;
  for (const Chunk& c : chunks) bytes += c.data.size();
  std::size_t exchanges = 0;
  for (auto _ : state) {
    auto parser = MakeRedisParser({});
    waitscope::protocols::testing::Replay(*parser, chunks);
    auto out = parser->TakeExchanges();
    exchanges += out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["commands/s"] =
      benchmark::Counter(static_cast<double>(exchanges), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

// The statement of one command (name uppercased, key patterns), alone.
void BM_Normalize(benchmark::State& state, std::vector<std::string_view> args) {
  for (auto _ : state) {
    auto n = waitscope::protocols::redis::NormalizeCommand(args, false);
    benchmark::DoNotOptimize(n);
  }
  state.counters["commands/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_Normalize, get_benchmark_key, {"GET", "key:__rand_int__"});
BENCHMARK_CAPTURE(BM_Normalize, get_id_key, {"get", "user:12345:cart"});
BENCHMARK_CAPTURE(BM_Normalize, set_session, {"SET", "session:3f2a9c1e7b2d4a11", "v"});
BENCHMARK_CAPTURE(BM_Normalize, mget_3, {"MGET", "k:1", "k:2", "k:3"});

BENCHMARK_CAPTURE(BM_Replay, bench_get, "bench_get.capture");
BENCHMARK_CAPTURE(BM_Replay, bench_set, "bench_set.capture");
BENCHMARK_CAPTURE(BM_Replay, bench_rand_mset, "bench_rand_mset.capture");
BENCHMARK_CAPTURE(BM_Replay, redis_cli_session, "basic_resp2.capture");

}  // namespace

BENCHMARK_MAIN();
