#include "core/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace waitscope {

int LatencyHistogram::BucketOf(std::uint64_t ns) {
  // Values below 2^kSubBits get one bucket each; above, each power of two is
  // split into 2^kSubBits equal sub-buckets.
  if (ns < (1u << kSubBits)) return static_cast<int>(ns);
  const int msb = 63 - std::countl_zero(ns);
  const int shift = msb - kSubBits;
  const int sub = static_cast<int>((ns >> shift) & ((1u << kSubBits) - 1));
  return ((shift + 1) << kSubBits) + sub;
}

std::uint64_t LatencyHistogram::UpperEdge(int bucket) {
  if (bucket < (1 << kSubBits)) return static_cast<std::uint64_t>(bucket);
  const int shift = (bucket >> kSubBits) - 1;
  const std::uint64_t sub = static_cast<std::uint64_t>(bucket & ((1 << kSubBits) - 1));
  const std::uint64_t base = (std::uint64_t{1} << kSubBits) | sub;
  return ((base + 1) << shift) - 1;
}

void LatencyHistogram::Add(std::uint64_t ns) {
  ++buckets_[static_cast<std::size_t>(BucketOf(ns))];
  ++count_;
  sum_ += ns;
  max_ = std::max(max_, ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[static_cast<std::size_t>(b)];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(UpperEdge(b), max_);
  }
  return max_;
}

LatencySummary LatencyHistogram::Summarize() const {
  LatencySummary s;
  s.count = count_;
  if (count_ == 0) return s;
  s.mean = static_cast<double>(sum_) / static_cast<double>(count_) / 1000.0;
  s.p50 = static_cast<double>(Quantile(0.50)) / 1000.0;
  s.p95 = static_cast<double>(Quantile(0.95)) / 1000.0;
  s.p99 = static_cast<double>(Quantile(0.99)) / 1000.0;
  s.max = static_cast<double>(max_) / 1000.0;
  return s;
}

}  // namespace waitscope
