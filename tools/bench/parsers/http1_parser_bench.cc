// Throughput of the HTTP/1.x parser replaying the nginx captures of
// agent/protocols/http1/testdata (keep-alive curl session, pipelined
// requests, POST/chunked upload). Reports exchanges (requests) per second and
// bytes per second. Not a test: run by hand, see tools/bench/parsers.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "capture.h"
#include "protocols/http1/parser.h"

namespace {

using waitscope::protocols::ParserOptions;
using waitscope::protocols::http1::Http1Parser;
using waitscope::protocols::testing::Chunk;

void BM_Http1Replay(benchmark::State& state, const char* name) {
  std::vector<Chunk> chunks =
      waitscope::protocols::testing::LoadCapture(std::string(PROTO_TESTDATA_DIR) + "/" + name);
  std::size_t bytes = 0;
  for (const Chunk& c : chunks) bytes += c.data.size();
  std::size_t exchanges = 0;
  for (auto _ : state) {
    Http1Parser parser{ParserOptions{}};
    waitscope::protocols::testing::Replay(parser, chunks);
    auto ex = parser.TakeExchanges();
    exchanges += ex.size();
    benchmark::DoNotOptimize(ex);
  }
  state.counters["requests/s"] =
      benchmark::Counter(static_cast<double>(exchanges), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
}

BENCHMARK_CAPTURE(BM_Http1Replay, keepalive, "keepalive.capture");
BENCHMARK_CAPTURE(BM_Http1Replay, pipelined, "pipelined.capture");
BENCHMARK_CAPTURE(BM_Http1Replay, post_upload, "post_upload.capture");

}  // namespace

BENCHMARK_MAIN();
