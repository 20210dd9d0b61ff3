// FindingsEngine: the streaming front of the detectors. Request attribution
// hands it every finished server request and every event-loop block; at the
// end of a recording (or of a window) Finish runs the detectors over what it
// aggregated plus the report-level rows (queries, cache, tls) and returns the
// findings, most costly first.
//
// Memory is bounded by the number of distinct keys (endpoints, statements,
// peers, event-loop targets), never by the number of requests; see
// request_stats.h, pool_usage.h and event_loop_stats.h for the caps. Cost per
// AddRequest is linear in the record's spans, with no allocation once its keys
// have been seen.
//
// Not thread-safe: one thread adds; Finish and Breakdowns are const and may be
// called any number of times (a periodic window report, then the final one).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "findings/detector_config.h"
#include "findings/event_loop_stats.h"
#include "findings/pool_usage.h"
#include "findings/request_record.h"
#include "findings/request_stats.h"
#include "report/report.h"

namespace waitscope::findings {

class FindingsEngine {
 public:
  explicit FindingsEngine(DetectorConfig config);

  void AddRequest(const RequestRecord& r);
  void AddEventLoopBlock(const EventLoopBlock& b);

  // `report`: the report-level rows the detectors also look at (queries,
  // cache, tls, connections are aggregated elsewhere); `duration_s`: the
  // recording's length. Sorted by cost_ns, largest first (ties: kind, pid,
  // endpoint, summary, so the order is stable).
  std::vector<FindingRow> Finish(const Report& report, double duration_s) const;

  // Per (pid, endpoint): mean time per request by class in microseconds, over
  // every attributed request (errors included), for HttpRow::breakdown_us.
  // Endpoints served only by event loops have no entry.
  std::map<std::pair<std::uint32_t, std::string>, RequestBreakdown> Breakdowns() const;

  const DetectorConfig& config() const { return config_; }
  // Requests left out because kMaxEndpoints endpoints were already tracked.
  std::uint64_t dropped_requests() const { return requests_.dropped_requests(); }

 private:
  DetectorConfig config_;
  RequestStats requests_;
  PoolUsage pools_;
  EventLoopStats event_loops_;
};

}  // namespace waitscope::findings
