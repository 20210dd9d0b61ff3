#include "metrics/explicit_buckets.h"

#include <algorithm>
#include <cmath>

namespace waitscope::metrics {

ExplicitBuckets::ExplicitBuckets(std::span<const double> bounds_s)
    : bounds_s_(bounds_s), counts_(bounds_s.size() + 1, 0) {
  bounds_ns_.reserve(bounds_s.size());
  for (double b : bounds_s) bounds_ns_.push_back(static_cast<std::uint64_t>(std::llround(b * 1e9)));
}

// Prometheus buckets are "less than or equal": a value equal to a bound
// belongs to that bound's bucket.
std::size_t ExplicitBuckets::IndexOfNs(std::uint64_t ns) const {
  return static_cast<std::size_t>(std::lower_bound(bounds_ns_.begin(), bounds_ns_.end(), ns) -
                                  bounds_ns_.begin());
}

std::size_t ExplicitBuckets::IndexOfSeconds(double s) const {
  return static_cast<std::size_t>(std::lower_bound(bounds_s_.begin(), bounds_s_.end(), s) -
                                  bounds_s_.begin());
}

void ExplicitBuckets::Observe(std::uint64_t ns) {
  ++counts_[IndexOfNs(ns)];
  ++count_;
  sum_s_ += static_cast<double>(ns) / 1e9;
}

void ExplicitBuckets::AddSummary(const LatencySummary& s) {
  const std::uint64_t n = s.count;
  if (n == 0) return;
  auto at_least = [n](double q) {
    return std::min(n, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n))));
  };
  struct Step {
    double value_us;
    std::uint64_t cumulative;
  };
  const Step steps[] = {
      {s.p50, at_least(0.50)}, {s.p95, at_least(0.95)}, {s.p99, at_least(0.99)}, {s.max, n}};
  std::uint64_t placed = 0;
  double floor_us = 0;
  for (const Step& step : steps) {
    // p_q never decrease in a LatencySummary; the running max keeps a
    // malformed one from moving mass below an earlier quantile.
    floor_us = std::max(floor_us, step.value_us);
    if (step.cumulative <= placed) continue;
    counts_[IndexOfSeconds(floor_us / 1e6)] += step.cumulative - placed;
    placed = step.cumulative;
  }
  count_ += n;
  sum_s_ += s.mean * static_cast<double>(n) / 1e6;
}

}  // namespace waitscope::metrics
