// Explicit-bucket histogram state for one series, fed two ways:
//  - Observe(ns): one exact latency (the per-exchange feed);
//  - AddSummary(summary): a report row's {count, mean, p50, p95, p99, max},
//    when only the window's summary is known.
//
// The summary path is an approximation, documented in docs/metrics.md:
// ceil(q·n) samples are placed at p_q for q = 0.5, 0.95, 0.99 and the rest
// at max. A LatencyHistogram quantile is the upper edge of the bucket that
// holds the ceil(q·n)-th sample, so at least that many samples are <= p_q:
// every cumulative bucket count is a lower bound of the true one (latency is
// never understated), `count` is exact and `sum` is exact to the summary's
// mean. Not thread-safe; plain value type. The bounds are referenced, not
// copied: they must outlive the object (the catalog's are static).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/latency_histogram.h"

namespace waitscope::metrics {

class ExplicitBuckets {
 public:
  explicit ExplicitBuckets(std::span<const double> bounds_s);

  void Observe(std::uint64_t ns);
  void AddSummary(const LatencySummary& summary_us);

  const std::vector<std::uint64_t>& counts() const {
    return counts_;
  }  // bounds + 1, not cumulative
  std::uint64_t count() const { return count_; }
  double sum_s() const { return sum_s_; }

 private:
  std::size_t IndexOfNs(std::uint64_t ns) const;
  std::size_t IndexOfSeconds(double s) const;

  std::span<const double> bounds_s_;
  std::vector<std::uint64_t> bounds_ns_;  // rounded once, so Observe compares integers
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  double sum_s_ = 0;
};

}  // namespace waitscope::metrics
