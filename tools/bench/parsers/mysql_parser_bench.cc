// Throughput of the MySQL parser replaying the recorded test connections
// (agent/protocols/mysql/testdata). Reports exchanges (commands/queries) per
// second and bytes per second. Not a test: run by hand, see BENCHMARKS.md.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "capture.h"  // tests/unit/protocols: capture loading and replay
#include "protocols/mysql/parser.h"

namespace {

using waitscope::protocols::testing::Chunk;

void BM_MysqlReplay(benchmark::State& state, const char* name) {
  const auto chunks =
      waitscope::protocols::testing::LoadCapture(std::string(PROTO_TESTDATA_DIR) + "/" + name);
  std::size_t bytes = 0;
  for (const Chunk& c : chunks) bytes += c.data.size();
  std::size_t exchanges = 0;
  for (auto _ : state) {
    auto parser = waitscope::protocols::MakeMysqlParser({});
    waitscope::protocols::testing::Replay(*parser, chunks);
    auto ex = parser->TakeExchanges();
    exchanges += ex.size();
    benchmark::DoNotOptimize(ex);
  }
  state.counters["queries/s"] =
      benchmark::Counter(static_cast<double>(exchanges), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
}

BENCHMARK_CAPTURE(BM_MysqlReplay, cli, "mariadb_cli.capture");
BENCHMARK_CAPTURE(BM_MysqlReplay, prepared, "libmariadb_stmt.capture");
BENCHMARK_CAPTURE(BM_MysqlReplay, multi, "pymysql_multi.capture");

}  // namespace

BENCHMARK_MAIN();
