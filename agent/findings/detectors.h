// The findings detectors: each reads the streaming aggregates (and, for the
// report-level ones, the rows of the Report) at the end of a recording and
// appends its FindingRows. One .cc file per detector (detect_<kind>.cc), each
// documenting its rule, evidence and severity there.
#pragma once

#include <vector>

#include "findings/detector_config.h"
#include "findings/event_loop_stats.h"
#include "findings/pool_usage.h"
#include "findings/request_stats.h"
#include "report/report.h"

namespace waitscope::findings {

struct DetectorInputs {
  const DetectorConfig& config;
  const RequestStats& requests;
  const PoolUsage& pools;
  const EventLoopStats& event_loops;
  const Report& report;
  double duration_s = 0;
};

void DetectSyncIo(const DetectorInputs& in, std::vector<FindingRow>& out);
void DetectNPlusOne(const DetectorInputs& in, std::vector<FindingRow>& out);
void DetectPoolExhaustion(const DetectorInputs& in, std::vector<FindingRow>& out);
void DetectConnectionChurn(const DetectorInputs& in, std::vector<FindingRow>& out);
void DetectSlowQuery(const DetectorInputs& in, std::vector<FindingRow>& out);
void DetectLowCacheHitRatio(const DetectorInputs& in, std::vector<FindingRow>& out);
void DetectTlsFullHandshake(const DetectorInputs& in, std::vector<FindingRow>& out);
void DetectEventLoopBlocked(const DetectorInputs& in, std::vector<FindingRow>& out);

}  // namespace waitscope::findings
