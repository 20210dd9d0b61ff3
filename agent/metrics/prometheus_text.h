// Prometheus text exposition format 0.0.4 for a MetricSnapshot
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Names: the OpenTelemetry name with every character outside
// [a-zA-Z0-9_:] replaced by '_', then the unit as a plural word
// ("s" -> _seconds, "By" -> _bytes; annotations like "{event}" add
// nothing; "1" on a gauge -> _ratio), then _total on counters:
// waitscope.wait.time [s, counter] -> waitscope_wait_time_seconds_total.
// Label names: characters outside [a-zA-Z0-9_] -> '_' (a leading digit or
// "__", which Prometheus reserves, gets a "key" prefix); two keys that
// collide after that are merged, values joined with ';'.
// Label values escape \, " and newline; HELP text escapes \ and newline.
// Histograms: cumulative _bucket{le="..."} lines ending in le="+Inf", then
// _sum and _count. No timestamps (Prometheus stamps the scrape).
//
// Output is deterministic: families sorted by Prometheus name, samples by
// label set. Families without points are left out; a family whose name
// repeats one already written (two model names that sanitize alike) is
// dropped, since the format allows one family per name.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "metrics/metric_snapshot.h"

namespace waitscope::metrics {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

std::string EncodePrometheusText(const MetricSnapshot& snapshot);

// The building blocks, exposed for tests and for anyone naming a metric.
std::string PrometheusName(const Metric& metric);  // family name (counters with _total)
std::string SanitizeMetricName(std::string_view name);
std::string SanitizeLabelName(std::string_view name);
std::string EscapeLabelValue(std::string_view value);
std::string FormatSampleValue(double value);  // "12", "0.25", "+Inf", "NaN"

}  // namespace waitscope::metrics
