// SeriesTable: the cumulative value of every metric series the agent
// exports, one family per catalog metric, each series keyed by its sorted
// label set. It bounds memory two ways:
//  - a series limit per metric: once a metric has `max_series` series, new
//    label sets fold into one series labelled otel.metric.overflow="true";
//  - series remember the process (comm) they belong to, so the accumulator
//    can drop every series of a process that is gone (EvictProcess).
// Each series remembers when it began counting (the window start set by
// BeginWindow when it was made), so a series made again after an eviction
// is a new sequence to OTLP consumers, not a counter that went down.
// Iteration order is the catalog's, then the label sets' (std::map), so
// snapshots are deterministic. Not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/explicit_buckets.h"
#include "metrics/metric_catalog.h"
#include "metrics/metric_snapshot.h"

namespace waitscope::metrics {

// Labels sorted by key, as MetricSnapshot requires; empty values are left
// out (Prometheus treats an empty label as an absent one anyway).
Labels MakeLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);

class SeriesTable {
 public:
  SeriesTable(std::size_t max_series_per_metric, std::int64_t start_unix_ns);

  // Series made from now on began counting at start_unix_ns.
  void BeginWindow(std::int64_t start_unix_ns) { window_start_unix_ns_ = start_unix_ns; }

  // `process` is the comm the series belongs to; "" for series that are
  // never evicted (agent health, overflow).
  void Add(MetricId id, const Labels& labels, double delta, std::string_view process);
  void Set(MetricId id, const Labels& labels, double value, std::string_view process);
  // A counter set from an outside total: never lowered.
  void SetMonotonic(MetricId id, const Labels& labels, double total);
  ExplicitBuckets& Histogram(MetricId id, const Labels& labels, std::string_view process);
  void Clear(MetricId id);

  // Drops every series of `process`; returns how many were dropped.
  std::size_t EvictProcess(std::string_view process);

  std::size_t size() const;
  // Appends one Metric per non-empty family, in catalog order.
  void AppendTo(std::vector<Metric>* out) const;

 private:
  struct Series {
    std::string process;
    std::int64_t start_unix_ns = 0;
    double value = 0;
    std::optional<ExplicitBuckets> histogram;
  };
  using Family = std::map<Labels, Series>;

  Series& Find(MetricId id, const Labels& labels, std::string_view process);

  std::size_t max_series_;
  std::int64_t window_start_unix_ns_;
  std::array<Family, kMetricCount> families_;
};

}  // namespace waitscope::metrics
