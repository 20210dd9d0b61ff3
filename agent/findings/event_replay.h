// Replays a recorded event stream (findings/event_stream.h) through the
// request stage the way TraceSession feeds it live: exchanges into a
// WireAggregator (report queries, cache, http, tls) and a RequestPipeline,
// waits into the pipeline, Flush at the recorded points, then one last
// window. Same stream, same findings and breakdowns as the recording.
//
// Differences from the live report, by construction: no waits, stacks,
// targets, loss or connection rows (not in the stream); a TLS row's
// `plaintext` is inferred from exchanges seen on that connection.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <set>

#include "aggregate/wire_aggregator.h"
#include "findings/detector_config.h"
#include "findings/event_stream.h"
#include "findings/request_attributor.h"
#include "findings/request_pipeline.h"
#include "report/report.h"

namespace waitscope::findings {

class EventReplayer {
 public:
  explicit EventReplayer(DetectorConfig config, AttributorOptions options = {});

  // `shift_ns` is added to every time stamp: a stream replayed again after
  // itself (benchmarks) looks like later traffic of the same threads.
  void Feed(const StreamEvent& event, std::uint64_t shift_ns = 0);

  // Ends the replay: every request in flight is settled. The report has
  // duration_s, queries, cache, http (with breakdowns), tls and findings.
  Report Finish(double duration_s);

  // After Finish: the request tree for report.txt.
  const RequestPipeline& pipeline() const { return pipeline_; }

 private:
  void Add(const StreamExchange& e);

  WireAggregator wire_;
  RequestPipeline pipeline_;
  // Counted at the end, as the tracker counts them at close.
  std::vector<StreamHandshake> handshakes_;
  std::set<std::uint64_t> plaintext_conns_;
};

// Replays a whole stream; the duration is the end marker's, else the span
// between the first and last flush.
Report ReplayEventStream(const EventStream& stream, DetectorConfig config,
                         AttributorOptions options = {});

// First and last time stamp in the stream (0, 0 when it has none).
std::pair<std::uint64_t, std::uint64_t> StreamTimeSpan(const EventStream& stream);

}  // namespace waitscope::findings
