#include "top/top_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace waitscope::top {
namespace {

template <typename Map, typename Fn>
void ForEachRow(Map& rows, Fn fn) {
  for (auto& [key, row] : rows) fn(row);
}

// Drops the rows idle longest until at most kMaxRowsPerTable remain.
template <typename Map, typename LastActive>
void EvictIdle(Map& rows, LastActive last_active) {
  if (rows.size() <= kMaxRowsPerTable) return;
  std::vector<double> times;
  times.reserve(rows.size());
  for (const auto& [key, row] : rows) times.push_back(last_active(row));
  const std::size_t excess = rows.size() - kMaxRowsPerTable;
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(excess - 1),
                   times.end());
  const double cutoff = times[excess - 1];
  std::size_t removed = 0;
  for (auto it = rows.begin(); it != rows.end() && removed < excess;) {
    if (last_active(it->second) <= cutoff) {
      it = rows.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
}

std::uint64_t MicrosTimesCount(const LatencySummary& s) {
  const double v = s.mean * static_cast<double>(s.count);
  return std::isfinite(v) && v > 0 ? static_cast<std::uint64_t>(std::llround(v)) : 0;
}

}  // namespace

std::string TopModel::CommOf(std::uint32_t pid) const {
  if (auto it = comms_.find(pid); it != comms_.end() && !it->second.empty()) return it->second;
  if (auto it = processes_.find(pid); it != processes_.end() && !it->second.comm.empty()) {
    return it->second.comm;
  }
  return "?";
}

void TopModel::StartWindow() {
  ForEachRow(processes_, [](ProcessStats& p) {
    for (Tally& t : p.blocked_ns) t.window = 0;
    p.blocked_total_ns.window = 0;
    p.waits.window = 0;
    p.window_max_ns = 0;
  });
  ForEachRow(endpoints_, [](EndpointStats& e) {
    e.requests.window = 0;
    e.latency_us.window = 0;
  });
  ForEachRow(statements_, [](StatementStats& s) {
    s.calls.window = 0;
    s.errors.window = 0;
    s.time_ns.window = 0;
  });
  ForEachRow(peers_, [](PeerStats& p) {
    p.opened.window = 0;
    p.retransmits.window = 0;
  });
  ForEachRow(findings_, [](FindingStats& f) {
    f.seen.window = 0;
    f.cost_ns.window = 0;
  });
}

void TopModel::AddWindow(const Report& window, const HealthSample& health, double uptime_s) {
  StartWindow();
  ++windows_;
  window_s_ = std::max(uptime_s - uptime_s_, 0.0);
  if (window_s_ <= 0) window_s_ = window.duration_s;
  uptime_s_ = uptime_s;
  const std::uint64_t new_events =
      health.events > health_.events ? health.events - health_.events : 0;
  events_per_s_ = window_s_ > 0 ? static_cast<double>(new_events) / window_s_ : 0;
  window_dropped_ = window.loss.events_dropped;
  health_ = health;

  comms_.clear();
  for (const Target& t : window.targets) comms_[t.pid] = t.comm;
  AddWaits(window);
  AddWire(window);
  AddFindings(window);

  EvictIdle(processes_, [](const ProcessStats& p) { return p.last_active_s; });
  EvictIdle(endpoints_, [](const EndpointStats& e) { return e.last_active_s; });
  EvictIdle(statements_, [](const StatementStats& s) { return s.last_active_s; });
  EvictIdle(peers_, [](const PeerStats& p) { return p.last_active_s; });
}

void TopModel::AddWaits(const Report& window) {
  for (const WaitRow& w : window.waits) {
    ProcessStats& p = processes_[w.pid];
    p.pid = w.pid;
    // The targets table has the latest name (after exec); the row, the one
    // the waits were counted under.
    std::string& comm = comms_[w.pid];
    if (comm.empty()) comm = w.comm;
    p.comm = comm;
    const auto cls = static_cast<std::size_t>(w.wait_class);
    if (cls < kWaitClassCount) p.blocked_ns[cls].Add(w.total_ns);
    p.blocked_total_ns.Add(w.total_ns);
    p.waits.Add(w.count);
    p.window_max_ns = std::max(p.window_max_ns, w.max_ns);
    p.max_ns = std::max(p.max_ns, w.max_ns);
    p.last_active_s = uptime_s_;
  }
  active_processes_ = 0;
  for (const auto& [pid, p] : processes_) active_processes_ += p.waits.window > 0 ? 1 : 0;
}

void TopModel::AddWire(const Report& window) {
  for (const HttpRow& h : window.http) {
    EndpointStats& e = endpoints_[{h.pid, h.server, h.endpoint}];
    e.pid = h.pid;
    e.server = h.server;
    e.endpoint = h.endpoint;
    e.requests.Add(h.count);
    e.latency_us.Add(MicrosTimesCount(h.latency_us));
    if (h.count > 0) {
      e.latency = h.latency_us;
      e.breakdown = h.breakdown_us;
    }
    e.last_active_s = uptime_s_;
  }
  for (const QueryRow& q : window.queries) {
    StatementStats& s = statements_[{q.pid, q.protocol, q.peer, q.statement}];
    s.pid = q.pid;
    s.protocol = q.protocol;
    s.peer = q.peer;
    s.statement = q.statement;
    s.calls.Add(q.count);
    s.errors.Add(q.errors);
    s.time_ns.Add(q.total_ns);
    if (q.count > 0) s.latency = q.latency_us;
    s.last_active_s = uptime_s_;
  }
  for (const ConnectionRow& c : window.connections) {
    PeerStats& p = peers_[{c.pid, c.server, c.peer}];
    p.pid = c.pid;
    p.server = c.server;
    p.peer = c.peer;
    if (p.protocol.empty() || (c.protocol != "unknown" && !c.protocol.empty())) {
      p.protocol = c.protocol;
    }
    p.opened.Add(c.opened);
    p.retransmits.Add(c.retransmits);
    if (c.connect_us.count > 0) p.connect_us = c.connect_us;
    if (c.rtt_us.count > 0) p.rtt_us = c.rtt_us;
    p.last_active_s = uptime_s_;
  }
}

void TopModel::AddFindings(const Report& window) {
  for (const FindingRow& f : window.findings) {
    FindingStats& s = findings_[{f.kind, f.pid, f.endpoint}];
    s.kind = f.kind;
    s.pid = f.pid;
    s.endpoint = f.endpoint;
    s.severity = f.severity;
    s.summary = f.summary;
    s.seen.Add(1);
    s.cost_ns.Add(f.cost_ns);
    s.last_seen_s = uptime_s_;
  }
  std::erase_if(findings_, [this](const auto& entry) {
    return uptime_s_ - entry.second.last_seen_s > kFindingMemoryS;
  });
}

}  // namespace waitscope::top
