#include "otlp/otlp_exporter.h"

#include "otlp/exporter_metrics.h"
#include "otlp/logs_encoder.h"
#include "otlp/metrics_encoder.h"
#include "otlp/response_body.h"

namespace waitscope::otlp {

SenderConfig OtlpSenderConfig(const OtlpExporterOptions& options, const std::string& signal,
                              const std::string& url, const std::string& version) {
  SenderConfig config;
  config.name = "OTLP " + signal;
  const std::optional<OtlpSignalOptions>& own =
      signal == "metrics" ? options.metrics_signal : options.logs_signal;
  if (own) {
    config.http = own->http;
    config.gzip = own->gzip;
  } else {
    config.http = HttpOptionsOf(options);
    config.gzip = options.gzip;
  }
  config.http.user_agent = "waitscope/" + version;
  const OtlpSignal kind = signal == "metrics" ? OtlpSignal::kMetrics : OtlpSignal::kLogs;
  config.partial_success = [kind](std::string_view body) { return PartialSuccessText(kind, body); };
  config.retry = options.retry;
  config.spool.dir = options.spool_dir.empty() ? "" : options.spool_dir + "/" + signal;
  config.spool.max_bytes = options.spool_max_bytes;
  config.content_type = "application/x-protobuf";
  // One URL per signal: the route only names the signal, so entries spooled
  // by an earlier run go to today's endpoint.
  config.url_for = [url, signal](const std::string& route) {
    return route == signal ? url : std::string();
  };
  return config;
}

Result<std::unique_ptr<OtlpExporter>> OtlpExporter::Create(const OtlpExporterOptions& options,
                                                           const std::string& scope_version) {
  std::unique_ptr<OtlpExporter> exporter(new OtlpExporter());
  exporter->resource_ =
      BuildResource(options.service_name, options.resource_attributes, scope_version);
  if (!options.metrics_url.empty()) {
    auto sender =
        Sender::Start(OtlpSenderConfig(options, "metrics", options.metrics_url, scope_version));
    if (!sender) return sender.error();
    exporter->metrics_ = std::move(*sender);
  }
  if (!options.logs_url.empty()) {
    auto sender = Sender::Start(OtlpSenderConfig(options, "logs", options.logs_url, scope_version));
    if (!sender) return sender.error();
    exporter->logs_ = std::move(*sender);
  }
  return exporter;
}

OtlpExporter::~OtlpExporter() = default;

void OtlpExporter::ExportMetrics(const metrics::MetricSnapshot& snapshot) {
  if (!metrics_) return;
  metrics_->Enqueue("metrics", EncodeMetricsRequest(snapshot, resource_));
}

void OtlpExporter::ExportFindings(const std::vector<FindingRow>& findings,
                                  std::int64_t time_unix_ns) {
  if (!logs_ || findings.empty()) return;
  logs_->Enqueue("logs", EncodeLogsRequest(findings, time_unix_ns, resource_));
}

OtlpExporterStats OtlpExporter::Stats() const {
  OtlpExporterStats stats;
  if (metrics_) stats.metrics = metrics_->Stats();
  if (logs_) stats.logs = logs_->Stats();
  return stats;
}

void OtlpExporter::AppendSelfMetrics(metrics::MetricSnapshot* snapshot) const {
  if (metrics_) AppendSenderMetrics(metrics_->Stats(), "otlp_metrics", snapshot);
  if (logs_) AppendSenderMetrics(logs_->Stats(), "otlp_logs", snapshot);
}

bool OtlpExporter::WaitIdle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::max(
        deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration(0)));
  };
  bool idle = true;
  if (metrics_) idle = metrics_->WaitIdle(left()) && idle;
  if (logs_) idle = logs_->WaitIdle(left()) && idle;
  return idle;
}

void OtlpExporter::Stop(std::chrono::milliseconds drain) {
  // Both drain at once: their workers are independent.
  const auto deadline = std::chrono::steady_clock::now() + drain;
  if (metrics_) metrics_->WaitIdle(drain);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(std::max(
      deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration(0)));
  if (logs_) logs_->Stop(left);
  if (metrics_) metrics_->Stop(std::chrono::milliseconds(0));
}

}  // namespace waitscope::otlp
