// Detectors fed by report-level rows: slow_query (queries), low_cache_hit_ratio
// (cache) and tls_full_handshake (tls).
#include <gtest/gtest.h>

#include "record_builder.h"

namespace waitscope::findings {
namespace {

using testing::Evidence;
using testing::kMs;
using testing::OfKind;
using testing::RequestBuilder;
using testing::RunEngine;

QueryRow Query(const std::string& statement, std::uint64_t count, double p95_ms, double mean_ms) {
  QueryRow q;
  q.pid = 42;
  q.protocol = "postgres";
  q.peer = testing::kPg;
  q.statement = statement;
  q.count = count;
  q.latency_us = LatencySummary{.count = count,
                                .mean = mean_ms * 1e3,
                                .p50 = mean_ms * 1e3,
                                .p95 = p95_ms * 1e3,
                                .p99 = p95_ms * 1e3,
                                .max = p95_ms * 1e3};
  q.total_ns = static_cast<std::uint64_t>(mean_ms * 1e6) * count;
  return q;
}

TEST(SlowQueryTest, HighP95IsFoundWithItsEndpoint) {
  Report report;
  report.queries = {Query("SELECT * FROM orders WHERE note LIKE ?", 100, 250, 180),
                    Query("SELECT * FROM users WHERE id = ?", 5000, 2, 1)};
  std::vector<RequestRecord> records;
  for (int i = 0; i < 10; ++i) {
    const std::uint64_t t = 1000 * kMs * static_cast<std::uint64_t>(i);
    records.push_back(RequestBuilder("GET /search", t)
                          .Query("SELECT * FROM orders WHERE note LIKE ?", 180 * kMs)
                          .Build());
    records.push_back(RequestBuilder("GET /admin", t + 500 * kMs)
                          .Query("SELECT * FROM orders WHERE note LIKE ?", 20 * kMs)
                          .Build());
  }
  const auto found = OfKind(RunEngine(records, {}, report), "slow_query");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].endpoint, "GET /search");
  EXPECT_EQ(found[0].severity, Severity::kCritical);
  const auto ev = Evidence(found[0]);
  EXPECT_DOUBLE_EQ(ev["p95_ms"].get<double>(), 250);
  EXPECT_EQ(ev["count"], 100);
  EXPECT_NEAR(ev["share_of_db_time"].get<double>(), 18000.0 / 23000.0, 0.001);
}

TEST(SlowQueryTest, FastStatementsAreNotFound) {
  Report report;
  report.queries = {Query("SELECT * FROM orders WHERE id = ?", 100, 4, 3),
                    Query("SELECT * FROM users WHERE id = ?", 5000, 2, 1)};
  EXPECT_TRUE(RunEngine({}, {}, report).empty());
}

TEST(SlowQueryTest, DominantAndSlowerThanTheRest) {
  Report report;
  report.queries = {Query("SELECT count(*) FROM events", 500, 40, 30),
                    Query("SELECT * FROM users WHERE id = ?", 1000, 2, 1),
                    Query("SELECT * FROM carts WHERE id = ?", 1000, 3, 1)};
  const auto found = OfKind(RunEngine({}, {}, report), "slow_query");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(Evidence(found[0])["statement"], "SELECT count(*) FROM events");
  EXPECT_TRUE(found[0].endpoint.empty());
}

TEST(SlowQueryTest, DominantOnlyBecauseFrequentIsNotSlow) {
  Report report;
  report.queries = {Query("SELECT * FROM sessions WHERE id = ?", 90000, 2, 1),
                    Query("SELECT * FROM users WHERE id = ?", 1000, 2, 1)};
  EXPECT_TRUE(RunEngine({}, {}, report).empty());
  // A lone statement is all of the DB time by definition: only the p95 rule applies.
  report.queries = {Query("SELECT * FROM sessions WHERE id = ?", 90000, 40, 30)};
  EXPECT_TRUE(RunEngine({}, {}, report).empty());
}

TEST(SlowQueryTest, FewRunsAndThresholdFromOption) {
  Report report;
  report.queries = {Query("SELECT pg_sleep(?)", 1, 900, 900)};
  EXPECT_TRUE(RunEngine({}, {}, report).empty());
  report.queries = {Query("SELECT pg_sleep(?)", 50, 250, 200)};
  DetectorConfig config;
  ASSERT_TRUE(SetDetectorOption(config, "slow_query.p95_ms", 500).ok());
  EXPECT_TRUE(RunEngine({}, config, report).empty());
  EXPECT_EQ(RunEngine({}, {}, report).size(), 1u);
}

CacheRow Cache(std::uint64_t reads, std::uint64_t hits) {
  return CacheRow{.pid = 42,
                  .protocol = "redis",
                  .peer = "127.0.0.1:6379",
                  .reads = reads,
                  .hits = hits,
                  .misses = reads - hits};
}

TEST(LowCacheHitRatioTest, MostlyMissingReadsAreFound) {
  Report report;
  report.cache = {Cache(1000, 300)};
  QueryRow get = Query("GET product:?", 1000, 1, 0.5);
  get.protocol = "redis";
  get.peer = "127.0.0.1:6379";
  report.queries = {get};
  const auto found = OfKind(RunEngine({}, {}, report), "low_cache_hit_ratio");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kWarning);
  const auto ev = Evidence(found[0]);
  EXPECT_EQ(ev["reads"], 1000);
  EXPECT_DOUBLE_EQ(ev["hit_ratio"].get<double>(), 0.3);
  EXPECT_EQ(found[0].cost_ns, 700 * kMs / 2);
}

TEST(LowCacheHitRatioTest, GoodRatioOrFewReadsAreNotFound) {
  Report report;
  report.cache = {Cache(1000, 950), Cache(20, 0)};
  EXPECT_TRUE(RunEngine({}, {}, report).empty());
  DetectorConfig config;
  ASSERT_TRUE(SetDetectorOption(config, "low_cache_hit_ratio.min_reads", 10).ok());
  EXPECT_EQ(OfKind(RunEngine({}, config, report), "low_cache_hit_ratio").size(), 1u);
  ASSERT_TRUE(SetDetectorOption(config, "low_cache_hit_ratio.min_ratio", 0).ok());
  EXPECT_TRUE(RunEngine({}, config, report).empty());
}

TlsRow Tls(const std::string& version, bool resumed, std::uint64_t count, double mean_ms) {
  TlsRow t;
  t.pid = 42;
  t.peer = "10.0.0.9:443";
  t.version = version;
  t.resumed = resumed;
  t.count = count;
  t.handshake_us.count = count;
  t.handshake_us.mean = mean_ms * 1e3;
  return t;
}

TEST(TlsFullHandshakeTest, FullTls12HandshakesAreCritical) {
  Report report;
  report.tls = {Tls("TLSv1.2", false, 600, 12)};
  const auto found = OfKind(RunEngine({}, {}, report, 60), "tls_full_handshake");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kCritical);
  const auto ev = Evidence(found[0]);
  EXPECT_EQ(ev["version"], "TLSv1.2");
  EXPECT_DOUBLE_EQ(ev["handshakes_per_s"].get<double>(), 10);
  EXPECT_DOUBLE_EQ(ev["mean_ms"].get<double>(), 12);
  EXPECT_DOUBLE_EQ(ev["full_share"].get<double>(), 1);
  EXPECT_EQ(found[0].cost_ns, 600 * 12 * kMs);
}

TEST(TlsFullHandshakeTest, AServerNamesItsClientsHostWithoutPortZero) {
  Report report;
  report.tls = {Tls("TLSv1.3", false, 600, 6)};
  report.tls[0].server = true;
  report.tls[0].peer = "127.0.0.1:0";
  const auto found = OfKind(RunEngine({}, {}, report, 60), "tls_full_handshake");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].summary.find("from clients at 127.0.0.1 ("), std::string::npos)
      << found[0].summary;
  EXPECT_EQ(Evidence(found[0])["peer"], "127.0.0.1:0");  // the evidence keeps the row's key
}

TEST(TlsFullHandshakeTest, Tls13SeverityIsLower) {
  Report report;
  report.tls = {Tls("TLSv1.3", false, 600, 6)};
  auto found = OfKind(RunEngine({}, {}, report, 60), "tls_full_handshake");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kWarning);
  found = OfKind(RunEngine({}, {}, report, 6000), "tls_full_handshake");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kInfo);
}

TEST(TlsFullHandshakeTest, ResumedSessionsAndFailuresAreNotFound) {
  Report report;
  report.tls = {Tls("TLSv1.3", true, 590, 2), Tls("TLSv1.3", false, 10, 6),
                Tls("unknown", false, 500, 1)};
  EXPECT_TRUE(RunEngine({}, {}, report).empty());
  report.tls = {Tls("TLSv1.2", false, 5, 12)};  // below min_handshakes
  EXPECT_TRUE(RunEngine({}, {}, report).empty());
  DetectorConfig config;
  ASSERT_TRUE(SetDetectorOption(config, "tls_full_handshake.min_handshakes", 5).ok());
  EXPECT_EQ(RunEngine({}, config, report).size(), 1u);
}

}  // namespace
}  // namespace waitscope::findings
