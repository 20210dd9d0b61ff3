#include "report/report_json.h"

#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/unix_address.h"
#include "report/report_text_findings.h"

namespace waitscope {
namespace {

// ordered_json keeps the contract's key order, which is what people reading
// the file expect; parsers do not care.
using Json = nlohmann::ordered_json;

constexpr int kSchemaVersion = 1;

Json TargetJson(const Target& t) {
  Json j = {{"pid", t.pid}, {"comm", t.comm}};
  if (!t.exe.empty()) j["exe"] = t.exe;
  return j;
}

Json WaitJson(const WaitRow& w) {
  return {{"pid", w.pid},
          {"comm", w.comm},
          {"class", std::string(WaitClassName(w.wait_class))},
          {"syscall", w.syscall},
          {"target", w.target},
          {"count", w.count},
          {"total_ns", w.total_ns},
          {"max_ns", w.max_ns}};
}

Json SummaryJson(const LatencySummary& s) {
  auto finite = [](double v) { return std::isfinite(v) && v > 0 ? v : 0.0; };
  return {{"count", s.count},     {"mean", finite(s.mean)}, {"p50", finite(s.p50)},
          {"p95", finite(s.p95)}, {"p99", finite(s.p99)},   {"max", finite(s.max)}};
}

Json ConnectionJson(const ConnectionRow& c) {
  Json j = {{"pid", c.pid}, {"role", c.server ? "server" : "client"}};
  if (!c.local.empty()) j["local"] = c.local;
  j["peer"] = c.peer;
  j["protocol"] = c.protocol;
  j["opened"] = c.opened;
  if (c.connect_us.count > 0) j["connect_us"] = SummaryJson(c.connect_us);
  if (c.rtt_us.count > 0) j["rtt_us"] = SummaryJson(c.rtt_us);
  j["retransmits"] = c.retransmits;
  j["resets"] = c.resets;
  return j;
}

Json QueryJson(const QueryRow& q) {
  return {{"pid", q.pid},
          {"protocol", q.protocol},
          {"peer", q.peer},
          {"statement", q.statement},
          {"count", q.count},
          {"errors", q.errors},
          {"latency_us", SummaryJson(q.latency_us)},
          {"rows", q.rows}};
}

Json CacheJson(const CacheRow& c) {
  return {{"pid", c.pid},     {"protocol", c.protocol}, {"peer", c.peer},
          {"reads", c.reads}, {"hits", c.hits},         {"misses", c.misses}};
}

Json HttpJson(const HttpRow& h) {
  Json status = Json::object();
  for (const auto& [code, n] : h.status) status[std::to_string(code)] = n;
  auto finite = [](double v) { return std::isfinite(v) && v > 0 ? v : 0.0; };
  const RequestBreakdown& b = h.breakdown_us;
  Json breakdown = {{"cpu", finite(b.cpu)},    {"db", finite(b.db)},     {"net", finite(b.net)},
                    {"disk", finite(b.disk)},  {"lock", finite(b.lock)}, {"tls", finite(b.tls)},
                    {"other", finite(b.other)}};
  return {{"pid", h.pid},
          {"role", h.server ? "server" : "client"},
          {"endpoint", h.endpoint},
          {"count", h.count},
          {"status", std::move(status)},
          {"latency_us", SummaryJson(h.latency_us)},
          {"breakdown_us", std::move(breakdown)}};
}

Json TlsJson(const TlsRow& t) {
  return {{"pid", t.pid},
          {"role", t.server ? "server" : "client"},
          {"peer", t.peer},
          {"version", t.version},
          {"resumed", t.resumed},
          {"count", t.count},
          {"failures", t.failures},
          {"handshake_us", SummaryJson(t.handshake_us)},
          {"round_trips", t.round_trips},
          {"plaintext", t.plaintext}};
}

Json FindingJson(const FindingRow& f) {
  Json j = {{"kind", f.kind}, {"severity", std::string(SeverityName(f.severity))}, {"pid", f.pid}};
  if (!f.endpoint.empty()) j["endpoint"] = f.endpoint;
  j["summary"] = f.summary;
  // Detectors write their evidence as JSON text; a detector bug must not
  // cost the whole report, so bad text becomes an object saying so.
  Json evidence = Json::parse(f.evidence_json, nullptr, /*allow_exceptions=*/false);
  if (!evidence.is_object()) evidence = {{"error", "evidence was not a JSON object"}};
  j["evidence"] = std::move(evidence);
  return j;
}

template <typename Row, typename F>
Json ArrayOf(const std::vector<Row>& rows, F to_json) {
  Json a = Json::array();
  for (const Row& r : rows) a.push_back(to_json(r));
  return a;
}

// The rows of `rows` whose peer is (or is not) a UNIX socket. The contract's
// peers are "ip:port"; UNIX-socket rows keep the same shape under the
// top-level `unix_sockets` object, which the schema allows as an addition.
template <typename Row, typename F>
Json ArrayOfPeers(const std::vector<Row>& rows, bool unix_peers, F to_json) {
  Json a = Json::array();
  for (const Row& r : rows) {
    if (IsUnixAddress(r.peer) == unix_peers) a.push_back(to_json(r));
  }
  return a;
}

Json ReportToJson(const Report& r) {
  Json j = Json::object();
  j["schema_version"] = kSchemaVersion;
  j["tool"] = {{"name", "waitscope"}, {"version", r.tool_version}};
  // The schema wants a number >= 0; NaN would be written as null.
  j["duration_s"] = std::isfinite(r.duration_s) && r.duration_s > 0 ? r.duration_s : 0.0;
  Json targets = Json::array();
  for (const Target& t : r.targets) targets.push_back(TargetJson(t));
  j["targets"] = std::move(targets);
  j["loss"] = {{"events_dropped", r.loss.events_dropped},
               {"bytes_truncated", r.loss.bytes_truncated},
               {"parse_errors", r.loss.parse_errors},
               {"exchanges_lost", r.loss.exchanges_lost}};
  Json waits = Json::array();
  for (const WaitRow& w : r.waits) waits.push_back(WaitJson(w));
  j["waits"] = std::move(waits);
  j["connections"] = ArrayOfPeers(r.connections, false, ConnectionJson);
  j["queries"] = ArrayOfPeers(r.queries, false, QueryJson);
  j["cache"] = ArrayOfPeers(r.cache, false, CacheJson);
  j["tls"] = ArrayOfPeers(r.tls, false, TlsJson);
  j["http"] = ArrayOf(r.http, HttpJson);
  j["findings"] = ArrayOf(r.findings, FindingJson);
  j["unix_sockets"] = {{"connections", ArrayOfPeers(r.connections, true, ConnectionJson)},
                       {"queries", ArrayOfPeers(r.queries, true, QueryJson)},
                       {"cache", ArrayOfPeers(r.cache, true, CacheJson)},
                       {"tls", ArrayOfPeers(r.tls, true, TlsJson)}};
  j["recording"] = {{"min_block_ns", r.min_block_ns}, {"stacks", r.stacks.size()}};
  return j;
}

}  // namespace

std::string RenderReportJson(const Report& report) {
  // The replace handler is what keeps dump() from throwing on non-UTF-8 names.
  return ReportToJson(report).dump(2, ' ', false, Json::error_handler_t::replace);
}

Status WriteReportJson(const Report& report, const std::string& path) {
  std::string text;
  try {
    text = RenderReportJson(report);
  } catch (const std::exception& e) {
    return Error{"cannot render " + path + ": " + e.what()};
  }
  text += '\n';
  return WriteFileAtomically(path, text);
}

}  // namespace waitscope
