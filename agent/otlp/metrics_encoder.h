// Encodes one MetricSnapshot (metrics/metric_snapshot.h) as an OTLP
// ExportMetricsServiceRequest (opentelemetry/proto/collector/metrics/v1),
// serialized. Mapping:
//  - kCounter   -> Sum, is_monotonic, AGGREGATION_TEMPORALITY_CUMULATIVE;
//  - kGauge     -> Gauge;
//  - kHistogram -> Histogram (explicit bounds, per-bucket counts, count, sum),
//                  cumulative;
//  - every point: start_time_unix_nano = snapshot.start_unix_ns (not on
//    gauges), time_unix_nano = snapshot.time_unix_ns, labels as string
//    attributes, values as double;
//  - one ResourceMetrics (resource.h) with one ScopeMetrics.
// Pure function; thread-safe.
#pragma once

#include <string>

#include "metrics/metric_snapshot.h"
#include "otlp/resource.h"

namespace waitscope::otlp {

std::string EncodeMetricsRequest(const metrics::MetricSnapshot& snapshot,
                                 const ResourceInfo& resource);

}  // namespace waitscope::otlp
