// Streaming per-endpoint aggregates of RequestRecords: what the per-endpoint
// detectors (sync I/O, N+1, connection churn, slow query attribution) and the
// http breakdown read at the end of a recording.
//
// Memory is bounded by distinct keys, never by the number of requests: at
// most kMaxEndpoints (pid, endpoint) pairs, and per endpoint at most
// kMaxStatements statements, kMaxTargets sync-I/O targets and kMaxPeers
// connect peers; what does not fit is counted in dropped_requests() or left
// out of the per-key tables (the endpoint totals still count it).
//
// Requests an event loop served (RequestRecord::attributed false) carry no
// spans: they are counted, and left out of everything else.
//
// Requests that errored count in the totals and the breakdown, but not in the
// anti-pattern tables: a request that failed takes a different path (retries,
// timeouts, an early exit), and the error is already visible in the status
// codes, so it must not make a healthy endpoint look like it has N+1 or churn.
//
// Not thread-safe: one thread calls Add, then readers may read.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/latency_histogram.h"
#include "findings/detector_config.h"
#include "findings/request_record.h"

namespace waitscope::findings {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Breakdown classes, in RequestBreakdown's order.
enum class BreakdownClass : std::uint8_t { kCpu, kDb, kNet, kDisk, kLock, kTls, kOther };
inline constexpr std::size_t kBreakdownClasses = 7;
BreakdownClass BreakdownClassOf(WaitClass c);

// One normalized statement to one peer, within one endpoint (ok requests).
struct StatementStats {
  std::string protocol;
  std::string peer;
  std::uint64_t requests = 0;           // requests that ran it at least once
  std::uint64_t executions = 0;         // over those requests
  std::uint64_t total_ns = 0;           // response time summed over executions
  std::uint64_t repeated_requests = 0;  // requests that ran it >= n_plus_one_min_repeats times
  std::uint64_t repeated_ns = 0;        // its time within those requests
  std::map<std::uint32_t, std::uint64_t> runs_per_request;  // executions -> requests

  // Median executions per request over the requests that ran it.
  std::uint32_t MedianRuns() const;
  // Median executions per request over the requests that ran it >= `min` times.
  std::uint32_t MedianRunsAtLeast(std::uint32_t min) const;
};

// A non-database peer or a written path the request thread blocked on.
struct SyncIoStats {
  bool disk = false;
  std::string target;
  std::uint64_t requests = 0;  // requests that blocked on it
  std::uint64_t calls = 0;     // blocking syscalls
  std::uint64_t total_ns = 0;  // blocked time
  std::map<std::string, std::uint64_t, std::less<>> ns_by_syscall;

  std::string TopSyscall() const;
};

// New outbound connections (and full TLS handshakes) to one peer.
struct ConnectStats {
  std::string peer;
  std::uint64_t connects = 0;
  std::uint64_t connect_ns = 0;      // TCP connect plus protocol setup (ConnectSpan)
  std::uint64_t tls_handshakes = 0;  // not resumed
  std::uint64_t tls_ns = 0;
};

struct EndpointStats {
  std::uint32_t pid = 0;
  std::string endpoint;
  std::uint64_t requests = 0;      // all, errors and unattributed included
  std::uint64_t unattributed = 0;  // served by an event loop: no spans, left out below
  std::uint64_t errors = 0;
  std::uint64_t all_total_ns = 0;                           // attributed requests
  std::array<std::uint64_t, kBreakdownClasses> class_ns{};  // attributed requests
  std::uint64_t ok_requests = 0;
  std::uint64_t ok_total_ns = 0;
  LatencyHistogram ok_latency;
  std::unordered_map<std::string, std::vector<StatementStats>, StringHash, std::equal_to<>>
      statements;  // by statement text, then peer
  std::size_t statement_count = 0;
  std::vector<SyncIoStats> sync_io;
  std::vector<ConnectStats> connects;
};

class RequestStats {
 public:
  static constexpr std::size_t kMaxEndpoints = 4096;
  static constexpr std::size_t kMaxStatements = 256;
  static constexpr std::size_t kMaxTargets = 64;
  static constexpr std::size_t kMaxPeers = 64;

  explicit RequestStats(const DetectorConfig& config);

  void Add(const RequestRecord& r);

  // In order of first appearance.
  const std::deque<EndpointStats>& endpoints() const { return endpoints_; }
  const EndpointStats* Find(std::uint32_t pid, std::string_view endpoint) const;
  std::uint64_t dropped_requests() const { return dropped_requests_; }

 private:
  struct RunScratch {
    const StatementSpan* first;
    std::uint32_t runs;
    std::uint64_t ns;
  };
  struct IoScratch {
    const WaitSpan* first;
    bool disk;
    std::uint32_t calls;
    std::uint64_t ns;
  };

  EndpointStats* Lookup(const RequestRecord& r);
  void AddStatements(EndpointStats& e, const RequestRecord& r);
  void AddSyncIo(EndpointStats& e, const RequestRecord& r);
  void AddConnects(EndpointStats& e, const RequestRecord& r);

  std::uint32_t min_repeats_;
  std::deque<EndpointStats> endpoints_;
  std::unordered_map<std::uint32_t,
                     std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>>>
      index_;
  std::uint64_t dropped_requests_ = 0;
  // Reused per request so the hot path does not allocate.
  std::vector<RunScratch> runs_;
  std::vector<IoScratch> io_;
};

// True for a wait that is a synchronous outbound call or a disk write/sync:
// what sync_io_in_request_path is about. `disk` tells which.
bool IsSyncIoWait(const WaitSpan& w, bool& disk);

}  // namespace waitscope::findings
