// Connection-pool usage per (pid, database peer), for pool_exhaustion.
//
// A connection counts as in use from a request's first statement on it to the
// end of that request (how per-request pools check connections out and back
// in). A sweep over those intervals gives the time spent at each number of
// connections in use; the pool's ceiling is the number of distinct connections
// seen. Per request it also keeps how long the request ran before its first
// statement on the peer, and how much of that was lock (futex) time: the
// thread parked on the pool's condition variable. Connections a request
// opened itself are not pool connections and are left out.
//
// Memory: the sweep buffers at most kSweepBuffer intervals per peer. When the
// buffer is full, time up to the median buffered end is swept, and the
// intervals that ended are dropped.
// Records arrive when their request ends, so an interval that arrives after
// the sweep passed its start is clipped to the swept point (and dropped if it
// ended before it): with 4096 buffered intervals that needs a request that
// started ~2000 requests earlier and is still running, and costs only its
// front. Distinct connections are remembered up to kMaxConnections; more than
// that is churn, not a pool, and the peer is then never reported.
//
// Not thread-safe: one thread calls Add.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/latency_histogram.h"
#include "findings/request_record.h"
#include "findings/request_stats.h"

namespace waitscope::findings {

// Time spent at each concurrency level of a stream of [start, end) intervals.
class ConcurrencySweep {
 public:
  static constexpr std::size_t kMaxLevel = 1024;  // levels above count here

  explicit ConcurrencySweep(std::size_t buffer = 4096) : buffer_(buffer) {}
  void Add(std::uint64_t start, std::uint64_t end);

  struct Levels {
    std::vector<std::uint64_t> ns_at;  // index: intervals open at once; [0] is not tracked
    std::size_t max_level = 0;
    std::uint64_t busy_ns = 0;  // at least one open
  };
  // Everything added so far (sweeps a copy of the buffered tail).
  Levels Result() const;
  std::uint64_t late_dropped() const { return late_dropped_; }

 private:
  struct Interval {
    std::uint64_t start, end;
  };
  static void Sweep(std::vector<Interval>& pending, std::uint64_t from, std::uint64_t until,
                    Levels& levels);

  std::size_t buffer_;
  std::vector<Interval> pending_;
  std::uint64_t swept_until_ = 0;
  Levels levels_;
  std::uint64_t late_dropped_ = 0;
};

struct PeerPoolStats {
  std::uint32_t pid = 0;
  std::string peer;
  std::string protocol;
  std::unordered_set<std::uint64_t> connections;
  bool too_many_connections = false;
  ConcurrencySweep in_use;
  std::uint64_t requests = 0;        // ok requests that used the peer
  std::uint64_t request_ns = 0;      // their total duration
  std::uint64_t lock_before_ns = 0;  // summed lock time before the first statement
  LatencyHistogram wait_before;      // request start -> first statement on the peer
  LatencyHistogram lock_before;      // lock time within that
};

class PoolUsage {
 public:
  static constexpr std::size_t kMaxPeers = 1024;
  static constexpr std::size_t kMaxConnections = 4096;

  void Add(const RequestRecord& r);
  const std::deque<std::unique_ptr<PeerPoolStats>>& peers() const { return peers_; }

 private:
  struct PeerScratch {
    const StatementSpan* first;
    std::uint64_t first_start;
  };
  struct ConnScratch {
    const StatementSpan* first;
    std::uint64_t first_start;
  };
  PeerPoolStats* Lookup(std::uint32_t pid, const StatementSpan& s);

  std::deque<std::unique_ptr<PeerPoolStats>> peers_;
  std::unordered_map<std::uint32_t,
                     std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>>>
      index_;
  std::vector<PeerScratch> peer_scratch_;
  std::vector<ConnScratch> conn_scratch_;
};

}  // namespace waitscope::findings
