// TopModel: what `waitscope top` shows, accumulated from the session's window
// reports. Each refresh adds one window (TraceSession::TakeWindow); every row
// keeps the last window's values (shown as rates per second) and totals since
// start, so the view is not empty between bursts.
//
// Contract:
//  - counts and times in a window report are that window's increments; the
//    model adds them into totals;
//  - quantiles (p50/p95) cannot be added across windows: a row shows those of
//    the latest window in which it had samples;
//  - findings are kept while seen within the last kFindingMemoryS seconds;
//  - each table holds at most kMaxRowsPerTable rows; the rows idle longest
//    are dropped first (tracing every process must not grow memory forever).
// Pure data: no I/O, no clock (the caller passes uptime). Not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "core/latency_histogram.h"
#include "core/wait_class.h"
#include "report/report.h"

namespace waitscope::top {

inline constexpr std::size_t kWaitClassCount = static_cast<std::size_t>(WaitClass::kOther) + 1;
inline constexpr std::size_t kMaxRowsPerTable = 2000;
inline constexpr double kFindingMemoryS = 60.0;

// Cumulative session counters at the time of a window (TraceSession::health).
struct HealthSample {
  std::uint64_t events = 0;
  std::uint64_t dropped = 0;
  std::uint64_t processes = 0;
};

// A value in the last window and since start.
struct Tally {
  std::uint64_t window = 0;
  std::uint64_t total = 0;
  void Add(std::uint64_t v) {
    window += v;
    total += v;
  }
};

struct ProcessStats {
  std::uint32_t pid = 0;
  std::string comm;
  std::array<Tally, kWaitClassCount> blocked_ns{};  // by WaitClass
  Tally blocked_total_ns;
  Tally waits;
  std::uint64_t window_max_ns = 0;  // longest single wait in the last window
  std::uint64_t max_ns = 0;         // since start
  double last_active_s = 0;
};

struct EndpointStats {
  std::uint32_t pid = 0;
  bool server = false;
  std::string endpoint;
  Tally requests;
  Tally latency_us;            // count x mean, for sorting by time
  LatencySummary latency;      // latest window with requests
  RequestBreakdown breakdown;  // latest window with requests (server role)
  double last_active_s = 0;
};

struct StatementStats {
  std::uint32_t pid = 0;
  std::string protocol;
  std::string peer;
  std::string statement;
  Tally calls;
  Tally errors;
  Tally time_ns;
  LatencySummary latency;  // latest window with calls
  double last_active_s = 0;
};

struct PeerStats {
  std::uint32_t pid = 0;
  bool server = false;
  std::string peer;
  std::string protocol;  // the latest known other than "unknown"
  Tally opened;
  Tally retransmits;
  LatencySummary connect_us;  // latest window with connects
  LatencySummary rtt_us;      // latest window with samples
  double last_active_s = 0;
};

struct FindingStats {
  std::string kind;
  Severity severity = Severity::kInfo;
  std::uint32_t pid = 0;
  std::string endpoint;
  std::string summary;  // latest
  Tally seen;           // windows in which it was reported
  Tally cost_ns;
  double last_seen_s = 0;
};

class TopModel {
 public:
  using ProcessKey = std::uint32_t;
  using EndpointKey = std::tuple<std::uint32_t, bool, std::string>;
  using StatementKey = std::tuple<std::uint32_t, std::string, std::string, std::string>;
  using PeerKey = std::tuple<std::uint32_t, bool, std::string>;
  using FindingKey = std::tuple<std::string, std::uint32_t, std::string>;

  // Adds one window report taken at `uptime_s` seconds after start.
  void AddWindow(const Report& window, const HealthSample& health, double uptime_s);

  std::size_t windows() const { return windows_; }
  double uptime_s() const { return uptime_s_; }
  double window_s() const { return window_s_; }
  const HealthSample& health() const { return health_; }
  double events_per_s() const { return events_per_s_; }
  std::uint64_t window_dropped() const { return window_dropped_; }
  // Processes that waited in the last window.
  std::size_t active_processes() const { return active_processes_; }
  std::string CommOf(std::uint32_t pid) const;

  const std::map<ProcessKey, ProcessStats>& processes() const { return processes_; }
  const std::map<EndpointKey, EndpointStats>& endpoints() const { return endpoints_; }
  const std::map<StatementKey, StatementStats>& statements() const { return statements_; }
  const std::map<PeerKey, PeerStats>& peers() const { return peers_; }
  const std::map<FindingKey, FindingStats>& findings() const { return findings_; }

 private:
  void StartWindow();
  void AddWaits(const Report& window);
  void AddWire(const Report& window);
  void AddFindings(const Report& window);

  std::size_t windows_ = 0;
  double uptime_s_ = 0;
  double window_s_ = 0;
  HealthSample health_;
  double events_per_s_ = 0;
  std::uint64_t window_dropped_ = 0;
  std::size_t active_processes_ = 0;
  std::map<std::uint32_t, std::string> comms_;
  std::map<ProcessKey, ProcessStats> processes_;
  std::map<EndpointKey, EndpointStats> endpoints_;
  std::map<StatementKey, StatementStats> statements_;
  std::map<PeerKey, PeerStats> peers_;
  std::map<FindingKey, FindingStats> findings_;
};

}  // namespace waitscope::top
