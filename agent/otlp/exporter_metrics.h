// The exporters' own health as agent metrics: appends a SenderStats to a
// MetricSnapshot (metrics/metric_snapshot.h) so the agent publishes them with
// everything else, labelled exporter="<name>" ("otlp_metrics", "otlp_logs",
// "pyroscope"). Names:
//   waitscope.exporter.requests (counter, {request}, label
//   outcome=sent|retried|failed|rejected|dropped|lost) waitscope.exporter.spool.size (gauge, By),
//   waitscope.exporter.spool.entries (gauge, {request})
// Call once per exporter per snapshot; metrics already present (by name) get
// the new points appended, so several exporters share one metric.
#pragma once

#include <string>

#include "metrics/metric_snapshot.h"
#include "otlp/sender.h"

namespace waitscope::otlp {

void AppendSenderMetrics(const SenderStats& stats, const std::string& exporter,
                         metrics::MetricSnapshot* snapshot);

}  // namespace waitscope::otlp
