#include "core/latency_histogram.h"

#include <gtest/gtest.h>

#include <random>

namespace waitscope {
namespace {

TEST(LatencyHistogram, EmptyIsAllZero) {
  LatencyHistogram h;
  LatencySummary s = h.Summarize();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p99, 0);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 50; ++v) h.Add(v);
  EXPECT_EQ(h.Quantile(0.5), 25u);
  EXPECT_EQ(h.Quantile(1.0), 50u);
  EXPECT_EQ(h.max_ns(), 50u);
}

TEST(LatencyHistogram, QuantilesWithinBucketPrecision) {
  LatencyHistogram h;
  std::vector<std::uint64_t> values;
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(13.0, 1.0);  // ~0.5 ms median
  for (int i = 0; i < 20000; ++i) {
    auto v = static_cast<std::uint64_t>(dist(rng));
    values.push_back(v);
    h.Add(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.95, 0.99}) {
    const double exact = static_cast<double>(values[static_cast<std::size_t>(q * 20000) - 1]);
    EXPECT_NEAR(static_cast<double>(h.Quantile(q)), exact, exact / 32) << "q=" << q;
  }
  LatencySummary s = h.Summarize();
  EXPECT_EQ(s.count, 20000u);
  EXPECT_DOUBLE_EQ(s.max, static_cast<double>(values.back()) / 1000.0);
  EXPECT_LE(s.p50, s.p95);
  EXPECT_LE(s.p95, s.p99);
  EXPECT_LE(s.p99, s.max);
}

TEST(LatencyHistogram, MergeEqualsAddingEverything) {
  LatencyHistogram a, b, all;
  for (std::uint64_t v : {100u, 2000u, 30000u}) {
    a.Add(v);
    all.Add(v);
  }
  for (std::uint64_t v : {5u, 7000000u}) {
    b.Add(v);
    all.Add(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.sum_ns(), all.sum_ns());
  EXPECT_EQ(a.Quantile(0.5), all.Quantile(0.5));
  EXPECT_EQ(a.max_ns(), 7000000u);
}

TEST(LatencyHistogram, HugeValuesDoNotOverflow) {
  LatencyHistogram h;
  h.Add(~std::uint64_t{0});
  EXPECT_EQ(h.Quantile(0.5), ~std::uint64_t{0});
}

}  // namespace
}  // namespace waitscope
