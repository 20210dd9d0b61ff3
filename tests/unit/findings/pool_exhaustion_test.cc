// pool_exhaustion on thread-pool workloads: 8 worker threads sharing a pool
// of database connections, requests interleaved in time.
#include <gtest/gtest.h>

#include "findings/pool_usage.h"
#include "record_builder.h"

namespace waitscope::findings {
namespace {

using testing::Evidence;
using testing::kMs;
using testing::OfKind;
using testing::RequestBuilder;
using testing::RunEngine;

// Rounds of 8 simultaneous requests. With `pool` < 8 connections, the
// threads beyond the pool park on the pool's lock until a connection is
// returned (at the end of a request), then run their query on it.
std::vector<RequestRecord> PoolRounds(int rounds, int pool, int status = 200) {
  std::vector<RequestRecord> out;
  constexpr int kThreads = 8;
  for (int k = 0; k < rounds; ++k) {
    const std::uint64_t t0 = 10 * kMs + 25 * kMs * static_cast<std::uint64_t>(k);
    std::vector<std::uint64_t> free_at(static_cast<std::size_t>(pool), t0);
    for (int i = 0; i < kThreads; ++i) {
      const auto conn = static_cast<std::size_t>(i % pool);
      RequestBuilder b("GET /cart", t0, static_cast<std::uint32_t>(300 + i));
      b.Cpu(kMs / 2);
      if (free_at[conn] > b.cursor()) b.Lock(free_at[conn] - b.cursor());
      b.Query("SELECT * FROM cart WHERE user_id = ?", 9 * kMs, 1000 + conn).Status(status);
      free_at[conn] = b.cursor();
      out.push_back(b.Build());
    }
  }
  // Records arrive when requests end.
  std::stable_sort(out.begin(), out.end(), [](const RequestRecord& a, const RequestRecord& b) {
    return a.end_ns < b.end_ns;
  });
  return out;
}

TEST(PoolExhaustionTest, SaturatedPoolWithQueuedRequestsIsFound) {
  const auto found = OfKind(RunEngine(PoolRounds(20, 4)), "pool_exhaustion");
  ASSERT_EQ(found.size(), 1u);
  const FindingRow& f = found[0];
  EXPECT_TRUE(f.endpoint.empty());
  const auto ev = Evidence(f);
  EXPECT_EQ(ev["peer"], testing::kPg);
  EXPECT_EQ(ev["pool_size"], 4);
  EXPECT_GT(ev["saturated_share"].get<double>(), 0.9);
  EXPECT_NEAR(ev["wait_before_first_query_p95_ms"].get<double>(), 9.5, 0.3);
  EXPECT_NEAR(ev["wait_before_first_query_p50_ms"].get<double>(), 0.5, 0.1);
  EXPECT_EQ(f.cost_ns, 20u * 4 * 9 * kMs);
  EXPECT_NE(f.summary.find("all 4 connections"), std::string::npos) << f.summary;
}

TEST(PoolExhaustionTest, ConnectionsOpenedPerRequestDoNotHideThePool) {
  // The same saturated pool of 4, while another endpoint opens a new
  // connection to the same database for every request (connection_churn):
  // those connections are not the pool's, its ceiling stays 4.
  std::vector<RequestRecord> out = PoolRounds(20, 4);
  for (int k = 0; k < 40; ++k) {
    RequestBuilder b("GET /profile", 10 * kMs + 12 * kMs * static_cast<std::uint64_t>(k), 400);
    const auto conn = static_cast<std::uint64_t>(5000 + k);
    b.Connect(testing::kPg, conn, kMs).Query("SELECT * FROM customers WHERE id = ?", 2 * kMs, conn);
    out.push_back(b.Build());
  }
  std::stable_sort(out.begin(), out.end(), [](const RequestRecord& a, const RequestRecord& b) {
    return a.end_ns < b.end_ns;
  });
  const auto found = OfKind(RunEngine(out), "pool_exhaustion");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(Evidence(found[0])["pool_size"], 4);
}

TEST(PoolExhaustionTest, PoolAsLargeAsTheThreadsIsNotAFinding) {
  // Fixed twin: one connection per worker, all 8 busy together, nobody waits.
  EXPECT_TRUE(RunEngine(PoolRounds(20, 8)).empty());
}

TEST(PoolExhaustionTest, LargePoolNeverSaturatedIsNotAFinding) {
  // 16 connections handed out round robin to 8 threads, plus lock waits
  // elsewhere (a cache mutex) before the first query: not a pool problem.
  std::vector<RequestRecord> out;
  for (int k = 0; k < 20; ++k) {
    for (int i = 0; i < 8; ++i) {
      RequestBuilder b("GET /cart", 25 * kMs * static_cast<std::uint64_t>(k),
                       static_cast<std::uint32_t>(300 + i));
      b.Lock(8 * kMs).Query("SELECT 1", 9 * kMs, static_cast<std::uint64_t>((k * 8 + i) % 16));
      out.push_back(b.Build());
    }
  }
  EXPECT_TRUE(OfKind(RunEngine(out), "pool_exhaustion").empty());
}

TEST(PoolExhaustionTest, OneRequestAndErrorsAreNotEnough) {
  const auto one = PoolRounds(1, 4);
  EXPECT_TRUE(RunEngine({one.back()}).empty());
  EXPECT_TRUE(RunEngine(PoolRounds(20, 4, 500)).empty());
}

TEST(PoolExhaustionTest, CpuBeforeTheFirstQueryIsNotAPoolWait) {
  // One thread, one connection (always "saturated"), 20 ms of work before the query.
  std::vector<RequestRecord> out;
  for (int i = 0; i < 20; ++i) {
    out.push_back(RequestBuilder("GET /cart", 40 * kMs * static_cast<std::uint64_t>(i))
                      .Cpu(20 * kMs)
                      .Query("SELECT 1", 5 * kMs, 7)
                      .Build());
  }
  EXPECT_TRUE(RunEngine(out).empty());
}

TEST(PoolExhaustionTest, ThresholdFromOption) {
  DetectorConfig config;
  ASSERT_TRUE(SetDetectorOption(config, "pool_exhaustion.min_wait_ms", 20).ok());
  EXPECT_TRUE(OfKind(RunEngine(PoolRounds(20, 4), config), "pool_exhaustion").empty());
  config = {};
  ASSERT_TRUE(SetDetectorOption(config, "min_requests", 200).ok());  // 160 requests
  EXPECT_TRUE(OfKind(RunEngine(PoolRounds(20, 4), config), "pool_exhaustion").empty());
}

TEST(ConcurrencySweepTest, LevelsMatchAcrossBufferFlushes) {
  // 3 overlapping intervals per 10 ns step; a tiny buffer forces many flushes.
  ConcurrencySweep small(8), large(1 << 16);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    for (std::uint64_t j = 0; j < 3; ++j) {
      small.Add(i * 10, i * 10 + 10);
      large.Add(i * 10, i * 10 + 10);
    }
  }
  const auto a = small.Result();
  const auto b = large.Result();
  EXPECT_EQ(b.max_level, 3u);
  EXPECT_EQ(b.busy_ns, 10'000u);
  EXPECT_EQ(b.ns_at[3], 10'000u);
  EXPECT_EQ(a.max_level, b.max_level);
  EXPECT_EQ(a.busy_ns, b.busy_ns);
  EXPECT_EQ(a.ns_at[3], b.ns_at[3]);
  EXPECT_EQ(small.late_dropped(), 0u);
}

}  // namespace
}  // namespace waitscope::findings
