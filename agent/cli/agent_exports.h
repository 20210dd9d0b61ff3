// The agent's exports for one configuration: the Prometheus endpoint, the
// OTLP/HTTP exporter (metrics and findings), the Pyroscope pusher (the
// window's wait profile) and rotated report directories. Each is optional
// (waitscope.yaml `exports:`). Rebuilt as a whole when a reload changes them.
//
// Not thread-safe: the agent loop calls it; the exporters have their own
// sender threads (agent/otlp/sender.h).
#pragma once

#include <cstdint>
#include <memory>

#include "config/agent_config.h"
#include "core/result.h"
#include "metrics/agent_health.h"
#include "metrics/metrics_accumulator.h"
#include "metrics/metrics_server.h"
#include "otlp/otlp_exporter.h"
#include "otlp/pyroscope_pusher.h"
#include "report/report.h"

namespace waitscope {

class AgentExports {
 public:
  // Fails (one line) when the Prometheus address cannot be bound or a spool
  // or report directory cannot be created.
  static Result<std::unique_ptr<AgentExports>> Start(const config::AgentConfig& config);

  // The current metrics on /metrics, before the first window closes.
  void PublishPrometheus(const metrics::MetricsAccumulator& accumulator);

  // One closed window: health (with the exporters' own failures and spool
  // size) into the accumulator, then every enabled export.
  void ExportWindow(const Report& window, std::int64_t start_unix_ns, std::int64_t end_unix_ns,
                    metrics::AgentHealth health, metrics::MetricsAccumulator& accumulator);

  // Sends what is pending (bounded wait; the spool keeps the rest).
  void Stop();

 private:
  AgentExports() = default;
  // The exporters' own counters (waitscope.exporter.*: requests by outcome,
  // spool drops, spool size), so an outage's cost shows where metrics go.
  void AppendExporterMetrics(metrics::MetricSnapshot* snapshot) const;
  void WriteReportDirectory(const Report& window, std::int64_t start_unix_ns);
  void RotateReportDirectories();

  config::FilesConfig files_;
  std::unique_ptr<metrics::MetricsServer> prometheus_;
  std::unique_ptr<otlp::OtlpExporter> otlp_;
  std::unique_ptr<otlp::PyroscopePusher> pyroscope_;
  std::uint64_t files_failures_ = 0;
};

}  // namespace waitscope
