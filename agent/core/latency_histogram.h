// A latency distribution with bounded memory: exact count, sum, min and max,
// and a log-linear histogram (64 sub-buckets per power of two, so quantiles
// are within 1/64 = 1.6% of the true value) for p50/p95/p99. Values are in
// nanoseconds; Summarize() gives the report contract's
// {count, mean, p50, p95, p99, max} in microseconds.
#pragma once

#include <array>
#include <cstdint>

namespace waitscope {

struct LatencySummary {
  std::uint64_t count = 0;
  double mean = 0, p50 = 0, p95 = 0, p99 = 0, max = 0;  // microseconds
};

class LatencyHistogram {
 public:
  void Add(std::uint64_t ns);
  void Merge(const LatencyHistogram& other);
  std::uint64_t count() const { return count_; }
  std::uint64_t sum_ns() const { return sum_; }
  std::uint64_t max_ns() const { return max_; }
  // The value at quantile q in [0, 1], in ns (upper edge of its bucket,
  // clamped to the exact max).
  std::uint64_t Quantile(double q) const;
  LatencySummary Summarize() const;

 private:
  static constexpr int kSubBits = 6;
  static constexpr int kBuckets = (64 - kSubBits + 1) << kSubBits;
  static int BucketOf(std::uint64_t ns);
  static std::uint64_t UpperEdge(int bucket);

  std::array<std::uint32_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace waitscope
