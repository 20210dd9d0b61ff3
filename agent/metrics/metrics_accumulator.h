// MetricsAccumulator: turns the agent's per-window reports into cumulative
// metrics (docs/metrics.md lists them). The agent loop calls, each window:
//
//   accumulator.AddWindow(window_report, start); // the window's rows
//   accumulator.SetHealth(health);               // totals since start
//   publish(accumulator.Snapshot(now_unix_ns));  // Prometheus and OTLP
//
// Contract:
//  - every count in a window report is that window's increment (delta); the
//    accumulator adds them, so counters only grow while the agent runs;
//  - series are labelled by process name (comm), not pid, so restarts and
//    worker churn do not create new series; a process name absent from
//    `evict_after_windows` consecutive windows (not in targets, not in any
//    row) loses all its series, counted in waitscope.agent.series.evicted;
//    a comeback starts its counters again from 0 (Prometheus sees a reset);
//  - each metric holds at most `max_series_per_metric` series; the rest fold
//    into one otel.metric.overflow="true" series;
//  - histograms come from report summaries by default (an approximation, see
//    explicit_buckets.h). When the loop feeds per-exchange latencies through
//    the Add*Latency calls, it says so in `exact`, and that family's
//    histograms then come only from the feed (the summaries are ignored so
//    nothing counts twice). A sample's labels must be spelled as the report
//    row would spell them (peer with port 0 on the server side, etc.).
//  - findings are a gauge of the last window's findings, replaced each window.
// Not thread-safe: call from the agent loop only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "metrics/agent_health.h"
#include "metrics/metric_snapshot.h"
#include "metrics/series_table.h"
#include "report/report.h"

namespace waitscope::metrics {

// Which histograms the loop feeds with exact per-exchange latencies.
struct ExactLatencyFeeds {
  bool statements = false;  // AddStatementLatency
  bool http = false;        // AddHttpLatency
  bool connect = false;     // AddConnectLatency
  bool tls = false;         // AddTlsHandshakeLatency
};

struct AccumulatorOptions {
  std::int64_t start_unix_ns = 0;  // agent start: the counters' start time
  std::uint32_t evict_after_windows = 5;
  std::size_t max_series_per_metric = 2000;
  ExactLatencyFeeds exact;
};

struct StatementSample {
  std::string_view process;    // comm
  std::string_view protocol;   // "postgres", "mysql", "redis"
  std::string_view peer;       // "ip:port"
  std::string_view statement;  // normalized
  std::uint64_t latency_ns = 0;
};

struct HttpSample {
  std::string_view process;
  bool server = false;
  std::string_view endpoint;  // "GET /orders/{id}"
  std::uint64_t latency_ns = 0;
};

struct ConnectSample {
  std::string_view process;
  std::string_view peer;
  std::string_view protocol;  // as the connection row ends up: "postgres", "unknown", ...
  std::uint64_t latency_ns = 0;
};

struct TlsHandshakeSample {
  std::string_view process;
  bool server = false;
  std::string_view peer;
  std::string_view version;  // "TLSv1.3"
  bool resumed = false;
  std::uint64_t latency_ns = 0;
};

class MetricsAccumulator {
 public:
  explicit MetricsAccumulator(AccumulatorOptions options = {});

  // window_start_unix_ns: when the window began; series first seen in it
  // start counting then (in the first window, or if 0: options.start_unix_ns).
  void AddWindow(const Report& window_report, std::int64_t window_start_unix_ns = 0);

  void AddStatementLatency(const StatementSample& sample);
  void AddHttpLatency(const HttpSample& sample);
  void AddConnectLatency(const ConnectSample& sample);
  void AddTlsHandshakeLatency(const TlsHandshakeSample& sample);

  void SetHealth(const AgentHealth& health);

  MetricSnapshot Snapshot(std::int64_t now_unix_ns) const;

 private:
  void AddWaits(const Report& report);
  void AddQueries(const Report& report);
  void AddHttp(const Report& report);
  void AddConnections(const Report& report);
  void AddTls(const Report& report);
  void SetFindings(const Report& report);
  void AddLoss(const Report& report);
  void EvictGoneProcesses();
  // Marks `process` as alive in the window being collected.
  void Touch(std::string_view process);
  const std::string& ProcessOf(std::uint32_t pid) const;

  AccumulatorOptions options_;
  SeriesTable table_;
  std::uint64_t windows_ = 0;                                    // windows added so far
  std::map<std::string, std::uint64_t, std::less<>> last_seen_;  // comm -> window it was seen in
  std::map<std::uint32_t, std::string> window_comms_;            // pid -> comm, current window only
  std::uint64_t series_evicted_ = 0;
};

}  // namespace waitscope::metrics
