// TraceSession is one running trace, whatever front end drives it: the
// probe (kernel side), the waits collector, the connection tracker and
// protocol parsers, and the request stage (attribution, findings, request
// profile). `waitscope record` takes one window at the end; `waitscope top`
// and `waitscope agent` take one per refresh or export interval.
//
// A window is everything since the previous one: waits as differences of the
// kernel's cumulative counters, wire tables and findings of that window only.
// Connections, parser state and requests in flight carry over.
//
// Not thread-safe: one event loop polls it and takes windows.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aggregate/wait_collector.h"
#include "aggregate/wire_aggregator.h"
#include "conn/connection_tracker.h"
#include "core/result.h"
#include "findings/detector_config.h"
#include "findings/event_stream.h"
#include "findings/request_pipeline.h"
#include "loader/probe.h"
#include "loader/ssl_attacher.h"
#include "procs/process_table.h"
#include "protocols/common/exchange.h"
#include "report/report.h"
#include "symbols/symbolizer.h"

namespace waitscope {

struct SessionOptions {
  ProbeOptions probe;
  protocols::ParserOptions parser;
  findings::DetectorConfig findings;
  // Also write the request stage's inputs to this file (findings/event_stream.h;
  // needs wire tracing). Empty: no.
  std::string save_events_path;
  std::string tool_version;  // written in the event stream's header
  // Distinct statements kept per process and window; past it they are summed
  // in one row (aggregate/wire_aggregator.h).
  std::size_t max_statements = WireAggregator::kDefaultMaxStatements;
};

// Counts of what the session read and lost so far (cumulative).
struct SessionHealth {
  std::uint64_t waits = 0;    // blocking syscalls the kernel aggregated
  std::uint64_t events = 0;   // kernel events handled (waits and sockets rings)
  std::uint64_t dropped = 0;  // everything in Loss::events_dropped
  std::uint64_t processes = 0;
  std::uint64_t statements_folded = 0;  // exchanges summed past max_statements
};

class TraceSession {
 public:
  static Result<std::unique_ptr<TraceSession>> Start(const SessionOptions& options);
  TraceSession(const TraceSession&) = delete;
  TraceSession& operator=(const TraceSession&) = delete;

  void Trace(std::uint32_t pid);
  bool IsTraced(std::uint32_t pid) const { return probe_->IsTraced(pid); }

  // Delivers pending kernel events (waiting up to timeout_ms), settles the
  // requests that are complete, and now and then looks for OpenSSL copies
  // the traced processes mapped since.
  Status Poll(int timeout_ms);

  // Everything since the previous window. `last`: the recording ends, so
  // open connections and requests in flight are settled first.
  // `clear_kernel_maps`: empty the kernel's aggregation maps afterwards
  // (long-running agent: bounded memory whatever processes come and go).
  Report TakeWindow(double window_s, bool last, bool clear_kernel_maps = false);

  // The request tree of the last window taken, for report.txt.
  std::string RequestTreeText(std::size_t width) const;
  // requests.folded/.pb.gz/.svg of the last window taken; when it had no
  // attributed request, none (an earlier recording's in `dir` are removed).
  Status WriteRequestProfiles(const std::string& dir, std::int64_t start_unix_ns,
                              std::int64_t duration_ns) const;

  // Ends the event stream (SessionOptions::save_events_path) after the last
  // window: its first write error, if any. OK when none was saved.
  Status CloseEventStream(double duration_s);

  KernelCounters kernel_counters() const { return probe_->ReadCounters(); }
  SessionHealth health() const;
  ProcessTable& processes() { return procs_; }
  const std::string& flavor() const { return probe_->flavor(); }

 private:
  TraceSession(std::unique_ptr<Probe> probe, const SessionOptions& options,
               std::unique_ptr<findings::EventStreamWriter> events);
  // `k`: the kernel counters, read once by the caller.
  Loss LossSinceStart(const KernelCounters& k) const;
  void ScanForOpenssl(std::uint32_t pid);
  void AttachSystemOpenssl();
  // Closes the connections of the processes that exited (after a drain: no
  // event of theirs is still in a ring) and removes their kernel entries.
  void CloseExitedConnections();

  std::unique_ptr<Probe> probe_;
  SessionOptions options_;
  ProcessTable procs_;
  Symbolizer symbolizer_;
  WaitCollector collector_;
  WireAggregator wire_;
  std::unique_ptr<ConnectionTracker> tracker_;
  std::unique_ptr<SslAttacher> ssl_;  // null when the openssl programs did not load
  std::uint64_t last_ssl_scan_ns_ = 0;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> exited_;  // (pid, ts) since the last drain
  std::unique_ptr<findings::RequestPipeline> requests_;          // null when wire tracing is off
  // Tees the pipeline's inputs to a file; null unless asked for.
  std::unique_ptr<findings::EventStreamWriter> events_;
  Loss previous_loss_;
};

}  // namespace waitscope
