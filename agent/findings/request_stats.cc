#include "findings/request_stats.h"

#include <algorithm>

#include "findings/finding_format.h"

namespace waitscope::findings {
namespace {

bool IsWriteOrSync(std::string_view sc) {
  return sc == "write" || sc == "pwrite64" || sc == "writev" || sc == "pwritev" ||
         sc == "pwritev2" || sc == "fsync" || sc == "fdatasync" || sc == "sync_file_range" ||
         sc == "sync" || sc == "syncfs" || sc == "msync" || sc == "fallocate" ||
         sc == "ftruncate" || sc == "copy_file_range";
}

bool LooksLikePeer(std::string_view t) {
  return !t.empty() && (t.front() == '[' || (t.front() >= '0' && t.front() <= '9')) &&
         t.find(':') != std::string_view::npos;
}

std::uint64_t Span(std::uint64_t start, std::uint64_t end) {
  return end > start ? end - start : 0;
}

}  // namespace

BreakdownClass BreakdownClassOf(WaitClass c) {
  switch (c) {
    case WaitClass::kDb:
      return BreakdownClass::kDb;
    case WaitClass::kNet:
      return BreakdownClass::kNet;
    case WaitClass::kDisk:
      return BreakdownClass::kDisk;
    case WaitClass::kLock:
      return BreakdownClass::kLock;
    case WaitClass::kTls:
      return BreakdownClass::kTls;
    default:
      // sleep, poll and pipe have no column of their own in breakdown_us.
      return BreakdownClass::kOther;
  }
}

bool IsSyncIoWait(const WaitSpan& w, bool& disk) {
  disk = false;
  if (w.target.empty() || w.target == "-" || IsDatabaseProtocol(w.protocol)) return false;
  if (w.wait_class == WaitClass::kDisk) {
    disk = true;
    return IsWriteOrSync(w.syscall);
  }
  if (w.wait_class == WaitClass::kNet) return true;
  // A client call with a timeout waits in poll() on the socket.
  return w.wait_class == WaitClass::kPoll && LooksLikePeer(w.target);
}

std::uint32_t StatementStats::MedianRunsAtLeast(std::uint32_t min) const {
  std::uint64_t n = 0;
  for (auto it = runs_per_request.lower_bound(min); it != runs_per_request.end(); ++it) {
    n += it->second;
  }
  if (n == 0) return 0;
  const std::uint64_t half = (n + 1) / 2;
  std::uint64_t seen = 0;
  for (auto it = runs_per_request.lower_bound(min); it != runs_per_request.end(); ++it) {
    seen += it->second;
    if (seen >= half) return it->first;
  }
  return runs_per_request.rbegin()->first;
}

std::uint32_t StatementStats::MedianRuns() const {
  return MedianRunsAtLeast(0);
}

std::string SyncIoStats::TopSyscall() const {
  const auto it =
      std::max_element(ns_by_syscall.begin(), ns_by_syscall.end(),
                       [](const auto& a, const auto& b) { return a.second < b.second; });
  return it == ns_by_syscall.end() ? std::string() : it->first;
}

RequestStats::RequestStats(const DetectorConfig& config)
    : min_repeats_(static_cast<std::uint32_t>(
          std::min<std::uint64_t>(config.n_plus_one_min_repeats, UINT32_MAX))) {}

const EndpointStats* RequestStats::Find(std::uint32_t pid, std::string_view endpoint) const {
  const auto p = index_.find(pid);
  if (p == index_.end()) return nullptr;
  const auto e = p->second.find(endpoint);
  return e == p->second.end() ? nullptr : &endpoints_[e->second];
}

EndpointStats* RequestStats::Lookup(const RequestRecord& r) {
  auto& by_name = index_[r.pid];
  if (const auto it = by_name.find(r.endpoint); it != by_name.end()) return &endpoints_[it->second];
  if (endpoints_.size() >= kMaxEndpoints) return nullptr;
  by_name.emplace(r.endpoint, endpoints_.size());
  EndpointStats& e = endpoints_.emplace_back();
  e.pid = r.pid;
  e.endpoint = r.endpoint;
  return &e;
}

void RequestStats::Add(const RequestRecord& r) {
  EndpointStats* e = Lookup(r);
  if (e == nullptr) {
    ++dropped_requests_;
    return;
  }
  const std::uint64_t duration = r.duration_ns();
  ++e->requests;
  if (!r.attributed) {
    ++e->unattributed;
    return;
  }
  e->all_total_ns += duration;
  e->class_ns[static_cast<std::size_t>(BreakdownClass::kCpu)] += r.cpu_ns;
  for (const WaitSpan& w : r.waits) {
    e->class_ns[static_cast<std::size_t>(BreakdownClassOf(w.wait_class))] += w.blocked_ns;
  }
  if (r.error) {
    ++e->errors;
    return;
  }
  ++e->ok_requests;
  e->ok_total_ns += duration;
  e->ok_latency.Add(duration);
  AddStatements(*e, r);
  AddSyncIo(*e, r);
  AddConnects(*e, r);
}

void RequestStats::AddStatements(EndpointStats& e, const RequestRecord& r) {
  runs_.clear();
  for (const StatementSpan& s : r.statements) {
    auto it = std::find_if(runs_.begin(), runs_.end(), [&](const RunScratch& x) {
      return x.first->statement == s.statement && x.first->peer == s.peer;
    });
    if (it == runs_.end()) {
      runs_.push_back({&s, 0, 0});
      it = runs_.end() - 1;
    }
    ++it->runs;
    it->ns += Span(s.start_ns, s.end_ns);
  }
  for (const RunScratch& run : runs_) {
    auto by_text = e.statements.find(run.first->statement);
    if (by_text == e.statements.end()) {
      if (e.statement_count >= kMaxStatements) continue;
      by_text = e.statements.emplace(run.first->statement, std::vector<StatementStats>{}).first;
    }
    auto& peers = by_text->second;
    auto st = std::find_if(peers.begin(), peers.end(),
                           [&](const StatementStats& x) { return x.peer == run.first->peer; });
    if (st == peers.end()) {
      if (e.statement_count >= kMaxStatements) continue;
      ++e.statement_count;
      st = peers.insert(peers.end(), StatementStats{});
      st->protocol = run.first->protocol;
      st->peer = run.first->peer;
    }
    ++st->requests;
    st->executions += run.runs;
    st->total_ns += run.ns;
    ++st->runs_per_request[run.runs];
    if (run.runs >= min_repeats_) {
      ++st->repeated_requests;
      st->repeated_ns += run.ns;
    }
  }
}

void RequestStats::AddSyncIo(EndpointStats& e, const RequestRecord& r) {
  io_.clear();
  for (const WaitSpan& w : r.waits) {
    bool disk = false;
    if (!IsSyncIoWait(w, disk)) continue;
    auto it = std::find_if(io_.begin(), io_.end(), [&](const IoScratch& x) {
      return x.disk == disk && x.first->target == w.target;
    });
    if (it == io_.end()) {
      io_.push_back({&w, disk, 0, 0});
      it = io_.end() - 1;
    }
    ++it->calls;
    it->ns += w.blocked_ns;
  }
  for (const IoScratch& io : io_) {
    auto st = std::find_if(e.sync_io.begin(), e.sync_io.end(), [&](const SyncIoStats& x) {
      return x.disk == io.disk && x.target == io.first->target;
    });
    if (st == e.sync_io.end()) {
      if (e.sync_io.size() >= kMaxTargets) continue;
      st = e.sync_io.insert(e.sync_io.end(), SyncIoStats{});
      st->disk = io.disk;
      st->target = io.first->target;
    }
    ++st->requests;
    st->calls += io.calls;
    st->total_ns += io.ns;
  }
  // Per-syscall split: a second pass only over the (few) matching waits.
  for (const WaitSpan& w : r.waits) {
    bool disk = false;
    if (!IsSyncIoWait(w, disk)) continue;
    for (SyncIoStats& st : e.sync_io) {
      if (st.disk != disk || st.target != w.target) continue;
      auto it = st.ns_by_syscall.find(w.syscall);
      if (it == st.ns_by_syscall.end()) it = st.ns_by_syscall.emplace(w.syscall, 0).first;
      it->second += w.blocked_ns;
      break;
    }
  }
}

void RequestStats::AddConnects(EndpointStats& e, const RequestRecord& r) {
  auto peer_stats = [&](const std::string& peer) -> ConnectStats* {
    auto it = std::find_if(e.connects.begin(), e.connects.end(),
                           [&](const ConnectStats& c) { return c.peer == peer; });
    if (it != e.connects.end()) return &*it;
    if (e.connects.size() >= kMaxPeers) return nullptr;
    e.connects.push_back(ConnectStats{.peer = peer});
    return &e.connects.back();
  };
  for (const ConnectSpan& c : r.connects) {
    if (ConnectStats* st = peer_stats(c.peer)) {
      ++st->connects;
      st->connect_ns += c.latency_ns + c.setup_ns;
    }
  }
  for (const TlsSpan& t : r.tls) {
    if (t.resumed || t.failed) continue;
    if (ConnectStats* st = peer_stats(t.peer)) {
      ++st->tls_handshakes;
      st->tls_ns += t.duration_ns;
    }
  }
}

}  // namespace waitscope::findings
