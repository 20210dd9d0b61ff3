// Encodes findings (report/report.h FindingRow) as an OTLP
// ExportLogsServiceRequest (opentelemetry/proto/collector/logs/v1),
// serialized: one LogRecord per finding, in the given order, with
//  - time_unix_nano and observed_time_unix_nano = `time_unix_ns` (the end of
//    the window that produced the finding);
//  - severity: info -> INFO (9), warning -> WARN (13), critical -> ERROR (17),
//    severity_text the report contract's word ("info", "warning", "critical");
//  - body: the summary sentence; event_name "waitscope.finding";
//  - attributes waitscope.finding.kind, .pid, .endpoint (when set), .cost_ns,
//    and the evidence object flattened under waitscope.finding.evidence.
//    (nested keys joined with '.', numbers as int/double, arrays as arrays;
//    evidence that is not a JSON object is kept as one string attribute).
// Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "otlp/resource.h"
#include "report/report.h"

namespace waitscope::otlp {

std::string EncodeLogsRequest(const std::vector<FindingRow>& findings, std::int64_t time_unix_ns,
                              const ResourceInfo& resource);

}  // namespace waitscope::otlp
