// Throughput of the PostgreSQL parser (and the SQL normalizer it calls),
// replaying the recorded connections of agent/protocols/postgres/testdata.
// Not a test: run by hand, e.g.
//   postgres_parser_bench --benchmark_min_time=1
// Reports statements (exchanges) per second and bytes per second.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "capture.h"
#include "protocols/postgres/parser.h"
#include "protocols/sql/normalize.h"

namespace {

using waitscope::protocols::testing::Chunk;

std::vector<Chunk> Load(const std::string& name) {
  return waitscope::protocols::testing::LoadCapture(std::string(PROTO_TESTDATA_DIR) + "/" + name +
                                                    ".capture");
}

void BM_Replay(benchmark::State& state, const std::string& name) {
  const std::vector<Chunk> chunks = Load(name);
  std::size_t bytes = 0;
  for (const Chunk& c : chunks) bytes += c.data.size();
  std::size_t statements = 0;
  for (auto _ : state) {
    auto parser = waitscope::protocols::MakePostgresParser({});
    waitscope::protocols::testing::Replay(*parser, chunks);
    auto done = parser->TakeExchanges();
    statements += done.size();
    benchmark::DoNotOptimize(done);
  }
  state.counters["statements/s"] =
      benchmark::Counter(static_cast<double>(statements), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
}

void BM_Normalize(benchmark::State& state) {
  const std::string sql =
      "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (5, 1, 50278, -4301, "
      "CURRENT_TIMESTAMP)";
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        waitscope::protocols::NormalizeSql(sql, waitscope::protocols::SqlDialect::kPostgres));
  }
  state.counters["statements/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_Replay, pgbench_simple, std::string("pgbench_simple"));
BENCHMARK_CAPTURE(BM_Replay, pgbench_extended, std::string("pgbench_extended"));
BENCHMARK_CAPTURE(BM_Replay, pgbench_prepared, std::string("pgbench_prepared"));
BENCHMARK_CAPTURE(BM_Replay, pipeline_raw, std::string("pipeline_raw"));
BENCHMARK(BM_Normalize);

}  // namespace

BENCHMARK_MAIN();
