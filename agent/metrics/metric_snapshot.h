// The agent's metrics for one aggregation window, independent of any wire
// format: the Prometheus exposition and the OTLP/HTTP exporter both encode
// this, so the two always publish the same names, labels and values.
//
// Naming follows OpenTelemetry semantic style with a `waitscope.` prefix and
// the unit in `unit` (UCUM: "s", "By", "1"); the Prometheus encoder derives
// `waitscope_wait_time_seconds_total` style names from it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace waitscope::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;  // sorted by key

enum class MetricType : std::uint8_t {
  kCounter,    // monotonic sum since the agent started (cumulative temporality)
  kGauge,      // a value now
  kHistogram,  // explicit-bucket, cumulative since start
};

// start_unix_ns: when a counter's or histogram's series began counting (the
// start of the window it first appeared in; after an eviction, its
// comeback's), for OTLP's start_time_unix_nano. 0 for gauges.
struct NumberPoint {
  Labels labels;
  double value = 0;
  std::int64_t start_unix_ns = 0;
};

struct HistogramPoint {
  Labels labels;
  std::vector<double> bounds;         // upper bounds, ascending, in the metric's unit
  std::vector<std::uint64_t> counts;  // bounds.size() + 1 buckets (last: +Inf), not cumulative
  std::uint64_t count = 0;
  double sum = 0;
  std::int64_t start_unix_ns = 0;
};

struct Metric {
  std::string name;         // "waitscope.wait.time"
  std::string description;  // one line, becomes HELP
  std::string unit;         // UCUM: "s", "By", "1", "{connection}"
  MetricType type = MetricType::kGauge;
  std::vector<NumberPoint> numbers;        // counter and gauge
  std::vector<HistogramPoint> histograms;  // histogram
};

struct MetricSnapshot {
  std::int64_t start_unix_ns = 0;  // agent start: the oldest series' start
  std::int64_t time_unix_ns = 0;   // end of the window this snapshot closes
  std::vector<Metric> metrics;
};

}  // namespace waitscope::metrics
