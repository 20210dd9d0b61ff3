#include "top/top_sections.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/peer_address.h"
#include "core/units.h"
#include "report/display_text.h"
#include "top/top_format.h"

namespace waitscope::top {
namespace {

constexpr std::size_t kCommWidth = 15;

// What a row sorts by: `primary` (last window) then `secondary` (since
// start), largest first; `name` breaks ties, or leads for SortKey::kName.
struct SortValue {
  double primary = 0;
  double secondary = 0;
  std::string name;
};

// The rows of `rows` (a map) ordered by `value(row)` for `sort`.
template <typename Map, typename ValueFn>
auto SortRows(const Map& rows, SortKey sort, ValueFn value) {
  using Stats = typename Map::mapped_type;
  std::vector<std::pair<SortValue, const Stats*>> keyed;
  keyed.reserve(rows.size());
  for (const auto& [key, row] : rows) keyed.emplace_back(value(row), &row);
  std::stable_sort(keyed.begin(), keyed.end(), [sort](const auto& a, const auto& b) {
    const SortValue& x = a.first;
    const SortValue& y = b.first;
    if (sort == SortKey::kName && x.name != y.name) return x.name < y.name;
    if (x.primary != y.primary) return x.primary > y.primary;
    if (x.secondary != y.secondary) return x.secondary > y.secondary;
    return x.name < y.name;
  });
  std::vector<const Stats*> out;
  out.reserve(keyed.size());
  for (const auto& [v, row] : keyed) out.push_back(row);
  return out;
}

double D(std::uint64_t v) {
  return static_cast<double>(v);
}

std::string Clean(std::string_view s) {
  return SanitizeForTerminal(s);
}

std::string ProcessLabel(const std::string& comm, std::uint32_t pid) {
  return TruncateEnd(Clean(comm.empty() ? "?" : comm), kCommWidth) + " (" + std::to_string(pid) +
         ")";
}

// "sleep 62%, lock 30%, net 8%": the largest classes first.
std::string ClassShares(const std::vector<std::pair<std::string_view, double>>& parts) {
  double sum = 0;
  for (const auto& [name, v] : parts) sum += v;
  if (!(sum > 0)) return "-";
  std::vector<std::pair<std::string_view, double>> sorted = parts;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [name, v] : sorted) {
    if (!(v > 0)) break;
    const double pct = 100.0 * v / sum;
    if (pct < 0.5) break;
    if (!out.empty()) out += ", ";
    out += std::string(name) + ' ' + FormatPercent(pct);
  }
  return out.empty() ? "-" : out;
}

// Rows of several processes with the same name say which is which (the
// name column is cut in the middle, so the suffix survives).
std::string PidSuffix(int same_name_rows, std::uint32_t pid) {
  return same_name_rows > 1 ? " (" + std::to_string(pid) + ")" : std::string();
}

SectionTable Processes(const TopModel& model, SortKey sort) {
  SectionTable t;
  t.title = "PROCESSES";
  t.columns = {{"", 22, false, false, false},
               {"BLOCK/s", 7, true},
               {"TOTAL", 7, true},
               {"WAITS/s", 7, true},
               {"MAX", 6, true},
               {"BY CLASS", 10, false, true, false, true}};
  t.empty_hint = "none yet: no traced process has blocked in a syscall";
  const double window_s = model.window_s();
  auto value = [sort](const ProcessStats& p) {
    SortValue v{D(p.blocked_total_ns.window), D(p.blocked_total_ns.total), p.comm};
    if (sort == SortKey::kCount) v = {D(p.waits.window), D(p.waits.total), p.comm};
    if (sort == SortKey::kP95) v = {D(p.window_max_ns), D(p.max_ns), p.comm};
    return v;
  };
  for (const ProcessStats* p : SortRows(model.processes(), sort, value)) {
    // Shares of the last window when it had waits, else of the whole run.
    const bool recent = p->blocked_total_ns.window > 0;
    std::vector<std::pair<std::string_view, double>> parts;
    for (std::size_t c = 0; c < kWaitClassCount; ++c) {
      const Tally& tally = p->blocked_ns[c];
      parts.emplace_back(WaitClassName(static_cast<WaitClass>(c)),
                         D(recent ? tally.window : tally.total));
    }
    t.rows.push_back(
        {ProcessLabel(p->comm, p->pid), FormatTimeRate(p->blocked_total_ns.window, window_s),
         FormatDuration(p->blocked_total_ns.total), FormatRate(p->waits.window, window_s),
         FormatDuration(p->max_ns), ClassShares(parts)});
  }
  return t;
}

std::string Breakdown(const RequestBreakdown& b) {
  return ClassShares({{"cpu", b.cpu},
                      {"db", b.db},
                      {"net", b.net},
                      {"disk", b.disk},
                      {"lock", b.lock},
                      {"tls", b.tls},
                      {"other", b.other}});
}

SectionTable Endpoints(const TopModel& model, SortKey sort) {
  SectionTable t;
  t.title = "ENDPOINTS";
  t.columns = {{"", 16, false, true, true},
               {"REQ/s", 6, true},
               {"COUNT", 6, true},
               {"P50", 6, true},
               {"P95", 6, true},
               {"TIME IN (server)", 18, false, false, false, true}};
  t.empty_hint = "none yet: HTTP/1.x requests served or sent show here";
  auto value = [sort](const EndpointStats& e) {
    SortValue v{D(e.latency_us.window), D(e.latency_us.total), e.endpoint};
    if (sort == SortKey::kCount) v = {D(e.requests.window), D(e.requests.total), e.endpoint};
    if (sort == SortKey::kP95) v = {e.latency.p95, D(e.requests.total), e.endpoint};
    return v;
  };
  std::map<std::pair<bool, std::string>, int> seen;
  for (const auto& [key, e] : model.endpoints()) ++seen[{e.server, e.endpoint}];
  for (const EndpointStats* e : SortRows(model.endpoints(), sort, value)) {
    // Client rows are requests this process sent: marked with an arrow out.
    const std::string name = (e->server ? "" : "\xE2\x86\x92 ") + Clean(e->endpoint) +
                             PidSuffix(seen[{e->server, e->endpoint}], e->pid);
    t.rows.push_back({name, FormatRate(e->requests.window, model.window_s()),
                      FormatCount(D(e->requests.total)),
                      FormatMicros(e->latency.p50, e->latency.count),
                      FormatMicros(e->latency.p95, e->latency.count),
                      e->server ? Breakdown(e->breakdown) : "-"});
  }
  return t;
}

SectionTable Statements(const TopModel& model, SortKey sort) {
  SectionTable t;
  t.title = "STATEMENTS";
  t.columns = {{"", 16, false, true, true}, {"PROTO", 8},     {"CALLS/s", 7, true},
               {"COUNT", 6, true},          {"ERR", 4, true}, {"P95", 6, true},
               {"TOTAL", 7, true}};
  t.empty_hint = "none yet: PostgreSQL, MySQL and Redis traffic shows here";
  auto value = [sort](const StatementStats& s) {
    SortValue v{D(s.time_ns.window), D(s.time_ns.total), s.statement};
    if (sort == SortKey::kCount) v = {D(s.calls.window), D(s.calls.total), s.statement};
    if (sort == SortKey::kP95) v = {s.latency.p95, D(s.calls.total), s.statement};
    return v;
  };
  std::map<std::pair<std::string, std::string>, int> seen;
  for (const auto& [key, s] : model.statements()) ++seen[{s.protocol, s.statement}];
  for (const StatementStats* s : SortRows(model.statements(), sort, value)) {
    const std::string name =
        Clean(s->statement) + PidSuffix(seen[{s->protocol, s->statement}], s->pid);
    t.rows.push_back({name, Clean(s->protocol), FormatRate(s->calls.window, model.window_s()),
                      FormatCount(D(s->calls.total)), FormatCount(D(s->errors.total)),
                      FormatMicros(s->latency.p95, s->latency.count),
                      FormatDuration(s->time_ns.total)});
  }
  return t;
}

// Client rows: "→ ip:port"; server rows (peer port is 0): "← ip".
std::string PeerLabel(const PeerStats& p) {
  std::string peer = Clean(p.peer);
  if (!p.server) return "\xE2\x86\x92 " + peer;
  if (const std::string_view host = AnyPortHost(peer); !host.empty()) peer = std::string(host);
  return "\xE2\x86\x90 " + peer;
}

SectionTable Peers(const TopModel& model, SortKey sort) {
  SectionTable t;
  t.title = "PEERS";
  t.columns = {{"", 15, false, true, true}, {"PROTO", 8},     {"PROCESS", 15},  {"CONNS", 5, true},
               {"CONNECT", 7, true},        {"RTT", 6, true}, {"RETR", 5, true}};
  t.empty_hint = "none yet: TCP connections of the traced processes show here";
  auto value = [sort](const PeerStats& p) {
    const double connect_us = p.connect_us.mean;
    SortValue v{D(p.opened.window) * connect_us, D(p.opened.total) * connect_us, p.peer};
    if (sort == SortKey::kCount) v = {D(p.opened.window), D(p.opened.total), p.peer};
    if (sort == SortKey::kP95) v = {p.connect_us.p95, p.rtt_us.p95, p.peer};
    return v;
  };
  for (const PeerStats* p : SortRows(model.peers(), sort, value)) {
    const std::string protocol = p->protocol.empty() ? "unknown" : p->protocol;
    t.rows.push_back(
        {PeerLabel(*p), Clean(protocol), ProcessLabel(model.CommOf(p->pid), p->pid),
         FormatCount(D(p->opened.total)), FormatMicros(p->connect_us.p50, p->connect_us.count),
         FormatMicros(p->rtt_us.p50, p->rtt_us.count), FormatCount(D(p->retransmits.total))});
  }
  return t;
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kCritical:
      return "crit";
    case Severity::kWarning:
      return "warn";
    case Severity::kInfo:
      return "info";
  }
  return "info";
}

SectionTable Findings(const TopModel& model, SortKey sort) {
  SectionTable t;
  t.title = "FINDINGS";
  t.columns = {{"", 22}, {"SEV", 4}, {"WHERE", 16}, {"SUMMARY", 10, false, true}};
  t.empty_hint = "none in the last minute";
  auto value = [sort](const FindingStats& f) {
    SortValue v{D(f.cost_ns.window), D(f.cost_ns.total), f.kind};
    if (sort == SortKey::kCount) v = {D(f.seen.window), D(f.seen.total), f.kind};
    if (sort == SortKey::kP95) v = {D(static_cast<int>(f.severity)), D(f.cost_ns.total), f.kind};
    return v;
  };
  for (const FindingStats* f : SortRows(model.findings(), sort, value)) {
    const std::string where =
        f->endpoint.empty() ? ProcessLabel(model.CommOf(f->pid), f->pid) : Clean(f->endpoint);
    t.rows.push_back(
        {Clean(f->kind), std::string(SeverityName(f->severity)), where, Clean(f->summary)});
  }
  return t;
}

}  // namespace

std::string_view SectionName(Section s) {
  switch (s) {
    case Section::kProcesses:
      return "processes";
    case Section::kEndpoints:
      return "endpoints";
    case Section::kStatements:
      return "statements";
    case Section::kPeers:
      return "peers";
    case Section::kFindings:
      return "findings";
  }
  return "processes";
}

std::string_view SortKeyName(SortKey k) {
  switch (k) {
    case SortKey::kTime:
      return "time";
    case SortKey::kCount:
      return "count";
    case SortKey::kP95:
      return "p95";
    case SortKey::kName:
      return "name";
  }
  return "time";
}

bool ParseSortKey(std::string_view name, SortKey* out) {
  for (SortKey k : {SortKey::kTime, SortKey::kCount, SortKey::kP95, SortKey::kName}) {
    if (SortKeyName(k) == name) {
      *out = k;
      return true;
    }
  }
  return false;
}

SectionTable BuildSection(Section section, const TopModel& model, SortKey sort) {
  SectionTable t;
  switch (section) {
    case Section::kProcesses:
      t = Processes(model, sort);
      break;
    case Section::kEndpoints:
      t = Endpoints(model, sort);
      break;
    case Section::kStatements:
      t = Statements(model, sort);
      break;
    case Section::kPeers:
      t = Peers(model, sort);
      break;
    case Section::kFindings:
      t = Findings(model, sort);
      break;
  }
  t.section = section;
  return t;
}

}  // namespace waitscope::top
