#include "findings/pool_usage.h"

#include <algorithm>

#include "findings/finding_format.h"

namespace waitscope::findings {

void ConcurrencySweep::Add(std::uint64_t start, std::uint64_t end) {
  if (end <= swept_until_) {
    ++late_dropped_;
    return;
  }
  pending_.push_back({std::max(start, swept_until_), end});
  if (pending_.size() < buffer_) return;
  // Sweeping to the median end frees at least half of the buffer.
  std::vector<std::uint64_t> ends;
  ends.reserve(pending_.size());
  for (const Interval& i : pending_) ends.push_back(i.end);
  auto mid = ends.begin() + static_cast<std::ptrdiff_t>(ends.size() / 2);
  std::nth_element(ends.begin(), mid, ends.end());
  const std::uint64_t until = *mid;
  Sweep(pending_, swept_until_, until, levels_);
  swept_until_ = until;
}

void ConcurrencySweep::Sweep(std::vector<Interval>& pending, std::uint64_t from,
                             std::uint64_t until, Levels& levels) {
  if (levels.ns_at.empty()) levels.ns_at.assign(kMaxLevel + 1, 0);
  struct Event {
    std::uint64_t t;
    int delta;
  };
  std::vector<Event> events;
  events.reserve(2 * pending.size());
  for (const Interval& i : pending) {
    const std::uint64_t s = std::max(i.start, from);
    const std::uint64_t e = std::min(i.end, until);
    if (s >= e) continue;
    events.push_back({s, +1});
    events.push_back({e, -1});
  }
  // Ends before starts at the same instant: a connection handed straight to
  // the next request was not in use twice.
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.t != b.t ? a.t < b.t : a.delta < b.delta;
  });
  std::size_t level = 0;
  std::uint64_t prev = from;
  for (const Event& ev : events) {
    if (ev.t > prev && level > 0) {
      levels.ns_at[std::min(level, kMaxLevel)] += ev.t - prev;
      levels.busy_ns += ev.t - prev;
    }
    prev = ev.t;
    level = ev.delta > 0 ? level + 1 : level - 1;
    levels.max_level = std::max(levels.max_level, level);
  }
  std::erase_if(pending, [&](const Interval& i) { return i.end <= until; });
  for (Interval& i : pending) i.start = std::max(i.start, until);
}

ConcurrencySweep::Levels ConcurrencySweep::Result() const {
  Levels out = levels_;
  std::vector<Interval> tail = pending_;
  std::uint64_t until = swept_until_;
  for (const Interval& i : tail) until = std::max(until, i.end);
  Sweep(tail, swept_until_, until, out);
  if (out.ns_at.empty()) out.ns_at.assign(kMaxLevel + 1, 0);
  return out;
}

PeerPoolStats* PoolUsage::Lookup(std::uint32_t pid, const StatementSpan& s) {
  auto& by_peer = index_[pid];
  if (const auto it = by_peer.find(s.peer); it != by_peer.end()) return peers_[it->second].get();
  if (peers_.size() >= kMaxPeers) return nullptr;
  by_peer.emplace(s.peer, peers_.size());
  auto p = std::make_unique<PeerPoolStats>();
  p->pid = pid;
  p->peer = s.peer;
  p->protocol = s.protocol;
  peers_.push_back(std::move(p));
  return peers_.back().get();
}

void PoolUsage::Add(const RequestRecord& r) {
  if (!r.attributed) return;
  // A connection the request opened itself did not come from a pool (that
  // is connection_churn): it neither raises the pool's ceiling nor makes the
  // request one that waited for a pooled connection. A pool that opens its
  // connections lazily still counts each of them from its second request.
  auto opened_here = [&r](const StatementSpan& s) {
    return std::any_of(r.connects.begin(), r.connects.end(),
                       [&s](const ConnectSpan& c) { return c.conn_id == s.conn_id; });
  };
  peer_scratch_.clear();
  for (const StatementSpan& s : r.statements) {
    if (!IsDatabaseProtocol(s.protocol) || opened_here(s)) continue;
    auto it = std::find_if(peer_scratch_.begin(), peer_scratch_.end(),
                           [&](const PeerScratch& p) { return p.first->peer == s.peer; });
    if (it == peer_scratch_.end()) {
      peer_scratch_.push_back({&s, s.start_ns});
    } else {
      it->first_start = std::min(it->first_start, s.start_ns);
    }
  }
  for (const PeerScratch& p : peer_scratch_) {
    PeerPoolStats* pool = Lookup(r.pid, *p.first);
    if (pool == nullptr) continue;
    conn_scratch_.clear();
    for (const StatementSpan& s : r.statements) {
      if (s.peer != p.first->peer || opened_here(s)) continue;
      auto c = std::find_if(conn_scratch_.begin(), conn_scratch_.end(),
                            [&](const ConnScratch& x) { return x.first->conn_id == s.conn_id; });
      if (c == conn_scratch_.end()) {
        conn_scratch_.push_back({&s, s.start_ns});
      } else {
        c->first_start = std::min(c->first_start, s.start_ns);
      }
    }
    for (const ConnScratch& c : conn_scratch_) {
      if (!pool->too_many_connections) {
        pool->connections.insert(c.first->conn_id);
        if (pool->connections.size() > kMaxConnections) {
          pool->too_many_connections = true;
          pool->connections.clear();
        }
      }
      pool->in_use.Add(c.first_start, std::max(r.end_ns, c.first_start + 1));
    }
    if (r.error) continue;
    const std::uint64_t first = std::max(p.first_start, r.start_ns);
    std::uint64_t lock_ns = 0;
    for (const WaitSpan& w : r.waits) {
      if (w.wait_class != WaitClass::kLock) continue;
      const std::uint64_t s = std::max(w.start_ns, r.start_ns);
      const std::uint64_t e = std::min(w.end_ns, first);
      if (e > s) lock_ns += std::min(e - s, w.blocked_ns);
    }
    ++pool->requests;
    pool->request_ns += r.duration_ns();
    pool->lock_before_ns += lock_ns;
    pool->wait_before.Add(first - r.start_ns);
    pool->lock_before.Add(lock_ns);
  }
}

}  // namespace waitscope::findings
