#include "metrics/metrics_accumulator.h"

#include <string>
#include <vector>

namespace waitscope::metrics {
namespace {

// One spelling of each label set, shared by the report path and the
// per-exchange feed so both land on the same series.

constexpr std::string_view RoleName(bool server) {
  return server ? "server" : "client";
}

Labels WaitLabels(std::string_view process, WaitClass wait_class, std::string_view target) {
  // Only database waits keep their target: a database peer is a server
  // address, few per process. Other targets are unbounded (file paths,
  // clients' ephemeral ports) and stay in report.json and the profiles.
  const std::string_view address = wait_class == WaitClass::kDb ? target : std::string_view{};
  return MakeLabels({{label::kProcess, process},
                     {label::kWaitClass, WaitClassName(wait_class)},
                     {label::kServerAddress, address}});
}

Labels StatementLabels(std::string_view process, std::string_view protocol, std::string_view peer,
                       std::string_view statement) {
  return MakeLabels({{label::kProcess, process},
                     {label::kDbSystem, protocol},
                     {label::kServerAddress, peer},
                     {label::kDbStatement, statement}});
}

Labels DbPeerLabels(std::string_view process, std::string_view protocol, std::string_view peer) {
  return MakeLabels(
      {{label::kProcess, process}, {label::kDbSystem, protocol}, {label::kServerAddress, peer}});
}

// "GET /orders/{id}" -> method "GET", route "/orders/{id}".
Labels HttpLabels(std::string_view process, std::string_view endpoint, std::string_view status) {
  const std::size_t space = endpoint.find(' ');
  const std::string_view method =
      space == std::string_view::npos ? std::string_view{} : endpoint.substr(0, space);
  const std::string_view route =
      space == std::string_view::npos ? endpoint : endpoint.substr(space + 1);
  return MakeLabels({{label::kProcess, process},
                     {label::kHttpMethod, method},
                     {label::kHttpRoute, route},
                     {label::kHttpStatus, status}});
}

Labels ConnectLabels(std::string_view process, std::string_view peer, std::string_view protocol) {
  return MakeLabels(
      {{label::kProcess, process}, {label::kPeer, peer}, {label::kProtocol, protocol}});
}

// "TLSv1.3" -> "1.3", as OpenTelemetry's tls.protocol.version writes it.
std::string_view TlsVersion(std::string_view version) {
  constexpr std::string_view kPrefix = "TLSv";
  return version.starts_with(kPrefix) ? version.substr(kPrefix.size()) : version;
}

Labels TlsLabels(std::string_view process, bool server, std::string_view peer,
                 std::string_view version, bool resumed) {
  return MakeLabels({{label::kProcess, process},
                     {label::kRole, RoleName(server)},
                     {label::kPeer, peer},
                     {label::kTlsVersion, TlsVersion(version)},
                     {label::kTlsResumed, resumed ? "true" : "false"}});
}

constexpr std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "warning";
}

double Seconds(std::uint64_t ns) {
  return static_cast<double>(ns) / 1e9;
}
double AsDouble(std::uint64_t n) {
  return static_cast<double>(n);
}

}  // namespace

MetricsAccumulator::MetricsAccumulator(AccumulatorOptions options)
    : options_(options), table_(options.max_series_per_metric, options.start_unix_ns) {}

void MetricsAccumulator::Touch(std::string_view process) {
  auto it = last_seen_.find(process);
  if (it == last_seen_.end()) it = last_seen_.emplace(std::string(process), 0).first;
  it->second = windows_ + 1;
}

const std::string& MetricsAccumulator::ProcessOf(std::uint32_t pid) const {
  static const std::string kUnknown = "unknown";
  auto it = window_comms_.find(pid);
  return it == window_comms_.end() ? kUnknown : it->second;
}

void MetricsAccumulator::AddWindow(const Report& report, std::int64_t window_start_unix_ns) {
  // The first window's series count from the agent's start (the session,
  // and the health totals, began before the window did).
  table_.BeginWindow(windows_ == 0 || window_start_unix_ns == 0 ? options_.start_unix_ns
                                                                : window_start_unix_ns);
  window_comms_.clear();
  for (const Target& t : report.targets) {
    window_comms_[t.pid] = t.comm;
    Touch(t.comm);
  }
  for (const WaitRow& w : report.waits) window_comms_.try_emplace(w.pid, w.comm);

  AddWaits(report);
  AddQueries(report);
  AddHttp(report);
  AddConnections(report);
  AddTls(report);
  SetFindings(report);
  AddLoss(report);

  ++windows_;
  EvictGoneProcesses();
}

void MetricsAccumulator::AddWaits(const Report& report) {
  for (const WaitRow& w : report.waits) {
    Touch(w.comm);
    const Labels labels = WaitLabels(w.comm, w.wait_class, w.target);
    table_.Add(MetricId::kWaitTime, labels, Seconds(w.total_ns), w.comm);
    table_.Add(MetricId::kWaitCount, labels, AsDouble(w.count), w.comm);
  }
}

void MetricsAccumulator::AddQueries(const Report& report) {
  for (const QueryRow& q : report.queries) {
    const std::string& process = ProcessOf(q.pid);
    Touch(process);
    const Labels labels = StatementLabels(process, q.protocol, q.peer, q.statement);
    if (!options_.exact.statements) {
      table_.Histogram(MetricId::kDbStatementDuration, labels, process).AddSummary(q.latency_us);
    }
    // Added even at 0, so an error ratio has both sides from the first window.
    table_.Add(MetricId::kDbStatementErrors, labels, AsDouble(q.errors), process);
  }
  for (const CacheRow& c : report.cache) {
    const std::string& process = ProcessOf(c.pid);
    Touch(process);
    const Labels labels = DbPeerLabels(process, c.protocol, c.peer);
    table_.Add(MetricId::kCacheReads, labels, AsDouble(c.reads), process);
    table_.Add(MetricId::kCacheHits, labels, AsDouble(c.hits), process);
  }
}

void MetricsAccumulator::AddHttp(const Report& report) {
  for (const HttpRow& h : report.http) {
    const std::string& process = ProcessOf(h.pid);
    Touch(process);
    const MetricId requests =
        h.server ? MetricId::kHttpServerRequests : MetricId::kHttpClientRequests;
    for (const auto& [status, count] : h.status) {
      const std::string code = std::to_string(status);
      table_.Add(requests, HttpLabels(process, h.endpoint, code), AsDouble(count), process);
    }
    if (!options_.exact.http) {
      const MetricId duration =
          h.server ? MetricId::kHttpServerDuration : MetricId::kHttpClientDuration;
      table_.Histogram(duration, HttpLabels(process, h.endpoint, ""), process)
          .AddSummary(h.latency_us);
    }
  }
}

void MetricsAccumulator::AddConnections(const Report& report) {
  for (const ConnectionRow& c : report.connections) {
    const std::string& process = ProcessOf(c.pid);
    Touch(process);
    if (c.opened > 0) {
      const Labels labels = MakeLabels({{label::kProcess, process},
                                        {label::kRole, RoleName(c.server)},
                                        {label::kPeer, c.peer},
                                        {label::kProtocol, c.protocol}});
      table_.Add(MetricId::kConnectionsOpened, labels, AsDouble(c.opened), process);
    }
    if (!options_.exact.connect && !c.server && c.connect_us.count > 0) {
      table_
          .Histogram(MetricId::kConnectDuration, ConnectLabels(process, c.peer, c.protocol),
                     process)
          .AddSummary(c.connect_us);
    }
  }
}

void MetricsAccumulator::AddTls(const Report& report) {
  for (const TlsRow& t : report.tls) {
    const std::string& process = ProcessOf(t.pid);
    Touch(process);
    const Labels labels = TlsLabels(process, t.server, t.peer, t.version, t.resumed);
    // `count` as report.json counts handshakes; failures are a counter of their own.
    table_.Add(MetricId::kTlsHandshakes, labels, AsDouble(t.count), process);
    if (t.failures > 0) {
      table_.Add(MetricId::kTlsHandshakeFailures, labels, AsDouble(t.failures), process);
    }
    if (!options_.exact.tls && t.handshake_us.count > 0) {
      table_.Histogram(MetricId::kTlsHandshakeDuration, labels, process).AddSummary(t.handshake_us);
    }
  }
}

void MetricsAccumulator::SetFindings(const Report& report) {
  table_.Clear(MetricId::kFindings);
  std::map<Labels, double> active;
  for (const FindingRow& f : report.findings) {
    active[MakeLabels({{label::kFindingKind, f.kind},
                       {label::kSeverity, SeverityName(f.severity)},
                       {label::kEndpoint, f.endpoint},
                       {label::kProcess, ProcessOf(f.pid)}})] += 1;
  }
  for (const auto& [labels, n] : active) table_.Set(MetricId::kFindings, labels, n, "");
}

void MetricsAccumulator::AddLoss(const Report& report) {
  // loss.events_dropped is the kernel counter the loop also reports in
  // AgentHealth::events_dropped; only the latter is used, so it counts once.
  table_.Add(MetricId::kAgentPayloadTruncated, {}, AsDouble(report.loss.bytes_truncated), "");
  table_.Add(MetricId::kAgentParseErrors, {}, AsDouble(report.loss.parse_errors), "");
  table_.Add(MetricId::kAgentExchangesLost, {}, AsDouble(report.loss.exchanges_lost), "");
}

void MetricsAccumulator::EvictGoneProcesses() {
  if (options_.evict_after_windows == 0) return;
  for (auto it = last_seen_.begin(); it != last_seen_.end();) {
    if (windows_ - it->second >= options_.evict_after_windows) {
      series_evicted_ += table_.EvictProcess(it->first);
      it = last_seen_.erase(it);
    } else {
      ++it;
    }
  }
}

void MetricsAccumulator::AddStatementLatency(const StatementSample& s) {
  Touch(s.process);
  table_
      .Histogram(MetricId::kDbStatementDuration,
                 StatementLabels(s.process, s.protocol, s.peer, s.statement), s.process)
      .Observe(s.latency_ns);
}

void MetricsAccumulator::AddHttpLatency(const HttpSample& s) {
  Touch(s.process);
  const MetricId id = s.server ? MetricId::kHttpServerDuration : MetricId::kHttpClientDuration;
  table_.Histogram(id, HttpLabels(s.process, s.endpoint, ""), s.process).Observe(s.latency_ns);
}

void MetricsAccumulator::AddConnectLatency(const ConnectSample& s) {
  Touch(s.process);
  table_
      .Histogram(MetricId::kConnectDuration, ConnectLabels(s.process, s.peer, s.protocol),
                 s.process)
      .Observe(s.latency_ns);
}

void MetricsAccumulator::AddTlsHandshakeLatency(const TlsHandshakeSample& s) {
  Touch(s.process);
  table_
      .Histogram(MetricId::kTlsHandshakeDuration,
                 TlsLabels(s.process, s.server, s.peer, s.version, s.resumed), s.process)
      .Observe(s.latency_ns);
}

void MetricsAccumulator::SetHealth(const AgentHealth& h) {
  table_.SetMonotonic(MetricId::kAgentEvents, {}, AsDouble(h.events));
  table_.SetMonotonic(MetricId::kAgentEventsDropped, {}, AsDouble(h.events_dropped));
  table_.SetMonotonic(MetricId::kAgentCpuTime, {}, h.cpu_time_s);
  table_.Set(MetricId::kAgentMemoryRss, {}, AsDouble(h.memory_rss_bytes), "");
  for (const auto& [exporter, failures] : h.export_failures) {
    table_.SetMonotonic(MetricId::kAgentExportFailures, MakeLabels({{label::kExporter, exporter}}),
                        AsDouble(failures));
  }
  table_.Set(MetricId::kAgentSpoolSize, {}, AsDouble(h.spool_size_bytes), "");
  table_.SetMonotonic(MetricId::kAgentEvictions, {}, AsDouble(h.evictions));
}

MetricSnapshot MetricsAccumulator::Snapshot(std::int64_t now_unix_ns) const {
  MetricSnapshot snapshot;
  snapshot.start_unix_ns = options_.start_unix_ns;
  snapshot.time_unix_ns = now_unix_ns;
  table_.AppendTo(&snapshot.metrics);
  auto self_metric = [](MetricId id, double value) {
    const MetricDef& def = Def(id);
    Metric m{std::string(def.name),    std::string(def.description),
             std::string(def.unit),    def.type,
             {NumberPoint{{}, value}}, {}};
    return m;
  };
  snapshot.metrics.push_back(self_metric(MetricId::kAgentSeries, AsDouble(table_.size())));
  snapshot.metrics.push_back(self_metric(MetricId::kAgentSeriesEvicted, AsDouble(series_evicted_)));
  return snapshot;
}

}  // namespace waitscope::metrics
