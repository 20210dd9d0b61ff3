// The agent's metrics, named once: the name, unit, type, HELP text and (for
// histograms) bucket bounds of every metric MetricsAccumulator publishes, and
// the label keys it uses. docs/metrics.md describes the same table for people;
// a change here is a change of the public metric contract.
//
// Names and label keys are OpenTelemetry style (dots, unit kept apart); the
// Prometheus encoder derives its names from them.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "metrics/metric_snapshot.h"

namespace waitscope::metrics {

enum class MetricId : std::uint8_t {
  kWaitTime,
  kWaitCount,
  kDbStatementDuration,
  kDbStatementErrors,
  kCacheReads,
  kCacheHits,
  kHttpServerRequests,
  kHttpServerDuration,
  kHttpClientRequests,
  kHttpClientDuration,
  kConnectionsOpened,
  kConnectDuration,
  kTlsHandshakes,
  kTlsHandshakeFailures,
  kTlsHandshakeDuration,
  kFindings,
  kAgentEvents,
  kAgentEventsDropped,
  kAgentCpuTime,
  kAgentMemoryRss,
  kAgentExportFailures,
  kAgentSpoolSize,
  kAgentEvictions,
  kAgentPayloadTruncated,
  kAgentParseErrors,
  kAgentExchangesLost,
  kAgentSeries,
  kAgentSeriesEvicted,
};
inline constexpr std::size_t kMetricCount =
    static_cast<std::size_t>(MetricId::kAgentSeriesEvicted) + 1;

struct MetricDef {
  std::string_view name;
  std::string_view unit;
  MetricType type;
  std::string_view description;
  std::span<const double> bounds;  // histograms only, seconds, ascending
};

const MetricDef& Def(MetricId id);

// Label keys (OpenTelemetry semantic conventions where one fits).
namespace label {
inline constexpr std::string_view kProcess = "process.executable.name";  // comm
inline constexpr std::string_view kWaitClass = "waitscope.wait.class";
inline constexpr std::string_view kServerAddress = "server.address";  // database "ip:port"
inline constexpr std::string_view kPeer = "network.peer.address";     // "ip:port"; servers: port 0
inline constexpr std::string_view kDbSystem = "db.system";
inline constexpr std::string_view kDbStatement = "db.statement";
inline constexpr std::string_view kHttpMethod = "http.request.method";
inline constexpr std::string_view kHttpRoute = "http.route";
inline constexpr std::string_view kHttpStatus = "http.response.status_code";
inline constexpr std::string_view kRole = "waitscope.connection.role";  // "client" / "server"
inline constexpr std::string_view kProtocol = "network.protocol.name";
inline constexpr std::string_view kTlsVersion = "tls.protocol.version";  // "1.2", "1.3"
inline constexpr std::string_view kTlsResumed = "tls.resumed";           // "true" / "false"
inline constexpr std::string_view kFindingKind = "waitscope.finding.kind";
inline constexpr std::string_view kSeverity = "waitscope.finding.severity";
inline constexpr std::string_view kEndpoint = "waitscope.endpoint";  // "GET /orders/{id}"
inline constexpr std::string_view kExporter = "exporter";  // as otlp/exporter_metrics.h labels it
// The one series a metric's new label sets fold into once it reaches its
// series limit (the OpenTelemetry SDK's cardinality-limit convention).
inline constexpr std::string_view kOverflow = "otel.metric.overflow";
}  // namespace label

}  // namespace waitscope::metrics
