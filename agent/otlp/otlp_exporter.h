// OtlpExporter: the agent's OTLP/HTTP (binary protobuf) sink. Each window's
// MetricSnapshot goes to metrics_url as an ExportMetricsServiceRequest, and
// findings go to logs_url as an ExportLogsServiceRequest; each signal has its
// own Sender (sender.h: worker thread, retries, spool under spool_dir/metrics
// and spool_dir/logs). Encoding happens on the caller's thread (cheap, and it
// fixes the timestamps at the time of the window); everything else on the
// senders' threads.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "metrics/metric_snapshot.h"
#include "otlp/options.h"
#include "otlp/resource.h"
#include "otlp/sender.h"
#include "report/report.h"

namespace waitscope::otlp {

struct OtlpExporterStats {
  SenderStats metrics;  // all zero when metrics_url is empty
  SenderStats logs;     // all zero when logs_url is empty
};

class OtlpExporter {
 public:
  // `scope_version` is the agent's version, sent as the instrumentation scope
  // version. Fails when a spool directory cannot be created or listed.
  static Result<std::unique_ptr<OtlpExporter>> Create(const OtlpExporterOptions& options,
                                                      const std::string& scope_version);
  ~OtlpExporter();

  // Queues the snapshot; a no-op without metrics_url.
  void ExportMetrics(const metrics::MetricSnapshot& snapshot);
  // Queues one request holding all findings; a no-op when empty or without logs_url.
  void ExportFindings(const std::vector<FindingRow>& findings, std::int64_t time_unix_ns);

  OtlpExporterStats Stats() const;
  // Adds Stats() to `snapshot` as the waitscope.exporter.* metrics
  // (exporter_metrics.h) of "otlp_metrics" and "otlp_logs", for each signal
  // that has a URL: the agent publishes its spool drops and retries with
  // everything else, over OTLP as well as Prometheus.
  void AppendSelfMetrics(metrics::MetricSnapshot* snapshot) const;
  bool WaitIdle(std::chrono::milliseconds timeout);
  // Delivers for up to `drain`, then stops; pending data stays in the spools.
  void Stop(std::chrono::milliseconds drain);

  const ResourceInfo& resource() const { return resource_; }

 private:
  OtlpExporter() = default;

  ResourceInfo resource_;
  std::unique_ptr<Sender> metrics_;
  std::unique_ptr<Sender> logs_;
};

// The Sender configuration of one OTLP signal, "metrics" or "logs"; `version`
// goes into the User-Agent (exposed for tests).
SenderConfig OtlpSenderConfig(const OtlpExporterOptions& options, const std::string& signal,
                              const std::string& url, const std::string& version);

}  // namespace waitscope::otlp
