#include "metrics/metric_catalog.h"

#include <array>

namespace waitscope::metrics {
namespace {

// Database round trips: Redis answers in tens of microseconds, a slow SQL
// statement takes seconds; 1-2.5-5 steps keep the p50/p95 readable across
// that range with 17 buckets.
constexpr std::array<double, 17> kDbBounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                              0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                              0.5,     1,      2.5,     5,      10};
// The OpenTelemetry HTTP semantic conventions' advisory bounds for
// http.server.request.duration, so dashboards built for them fit.
constexpr std::array<double, 14> kHttpBounds = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                0.5,   0.75, 1,     2.5,  5,     7.5, 10};
// TCP connect and TLS handshakes: one round trip on a LAN is ~100 µs, and
// SYN retransmits land at 1 s and 3 s.
constexpr std::array<double, 14> kNetBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                               0.025,  0.05,    0.1,    0.25,  0.5,    1,     3};

constexpr MetricType kCounter = MetricType::kCounter;
constexpr MetricType kGauge = MetricType::kGauge;
constexpr MetricType kHistogram = MetricType::kHistogram;

// Indexed by MetricId.
const std::array<MetricDef, kMetricCount> kDefs = {{
    {"waitscope.wait.time",
     "s",
     kCounter,
     "Time threads spent blocked in syscalls, by process and wait class",
     {}},
    {"waitscope.wait.count",
     "{wait}",
     kCounter,
     "Blocking waits (syscalls that left the CPU), by process and wait class",
     {}},
    {"waitscope.db.statement.duration", "s", kHistogram,
     "Latency of database statements and Redis commands, request sent to response received",
     kDbBounds},
    {"waitscope.db.statement.errors",
     "{error}",
     kCounter,
     "Database statements and Redis commands answered with an error",
     {}},
    {"waitscope.cache.reads", "{read}", kCounter, "Cache reads (Redis GET-like commands)", {}},
    {"waitscope.cache.hits", "{hit}", kCounter, "Cache reads that found their key", {}},
    {"waitscope.http.server.requests",
     "{request}",
     kCounter,
     "HTTP requests served, by endpoint and status code",
     {}},
    {"waitscope.http.server.duration", "s", kHistogram,
     "Latency of HTTP requests served, request received to response sent", kHttpBounds},
    {"waitscope.http.client.requests",
     "{request}",
     kCounter,
     "HTTP requests sent, by endpoint and status code",
     {}},
    {"waitscope.http.client.duration", "s", kHistogram,
     "Latency of HTTP requests sent, request sent to response received", kHttpBounds},
    {"waitscope.connections.opened",
     "{connection}",
     kCounter,
     "TCP connections opened (client) or accepted (server)",
     {}},
    {"waitscope.connect.duration", "s", kHistogram,
     "TCP connect latency, SYN sent to connection established", kNetBounds},
    {"waitscope.tls.handshakes", "{handshake}", kCounter, "TLS handshakes completed", {}},
    {"waitscope.tls.handshake.failures",
     "{handshake}",
     kCounter,
     "TLS handshakes that failed or were abandoned",
     {}},
    {"waitscope.tls.handshake.duration", "s", kHistogram,
     "TLS handshake latency, first ClientHello byte to handshake end", kNetBounds},
    {"waitscope.findings",
     "{finding}",
     kGauge,
     "Findings active in the last window, by kind, severity and endpoint",
     {}},
    {"waitscope.agent.events", "{event}", kCounter, "Events the agent read from the kernel", {}},
    {"waitscope.agent.events.dropped",
     "{event}",
     kCounter,
     "Events lost before the agent read them (ring buffer full, map full)",
     {}},
    {"waitscope.agent.cpu.time", "s", kCounter, "CPU time the agent used, user plus system", {}},
    {"waitscope.agent.memory.rss", "By", kGauge, "Resident memory of the agent", {}},
    {"waitscope.agent.export.failures",
     "{failure}",
     kCounter,
     "Exports that failed, by exporter",
     {}},
    {"waitscope.agent.spool.size", "By", kGauge, "Bytes waiting in the export spool", {}},
    {"waitscope.agent.evictions",
     "{entry}",
     kCounter,
     "Entries past the agent's limits: matching processes left untraced, exchanges summed "
     "past limits.max_statements",
     {}},
    {"waitscope.agent.payload.truncated",
     "By",
     kCounter,
     "Socket payload bytes not captured, so not parsed",
     {}},
    {"waitscope.agent.parse.errors",
     "{error}",
     kCounter,
     "Protocol messages the parsers could not read",
     {}},
    {"waitscope.agent.exchanges.lost",
     "{exchange}",
     kCounter,
     "Requests dropped unanswered after lost bytes",
     {}},
    {"waitscope.agent.series", "{series}", kGauge, "Metric series the agent exports now", {}},
    {"waitscope.agent.series.evicted",
     "{series}",
     kCounter,
     "Metric series dropped because their process was gone for several windows",
     {}},
}};

}  // namespace

const MetricDef& Def(MetricId id) {
  return kDefs[static_cast<std::size_t>(id)];
}

}  // namespace waitscope::metrics
