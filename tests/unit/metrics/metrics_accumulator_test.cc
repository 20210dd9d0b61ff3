#include "metrics/metrics_accumulator.h"

#include <gtest/gtest.h>

#include <map>

#include "metrics/explicit_buckets.h"
#include "metrics/metric_catalog.h"
#include "sample_data.h"

namespace waitscope::metrics {
namespace {

const Metric* FindMetric(const MetricSnapshot& s, std::string_view name) {
  for (const Metric& m : s.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const NumberPoint* FindNumber(const MetricSnapshot& s, std::string_view name,
                              const Labels& labels) {
  const Metric* m = FindMetric(s, name);
  if (m == nullptr) return nullptr;
  for (const NumberPoint& p : m->numbers) {
    if (p.labels == labels) return &p;
  }
  return nullptr;
}

const HistogramPoint* FindHistogram(const MetricSnapshot& s, std::string_view name,
                                    const Labels& labels) {
  const Metric* m = FindMetric(s, name);
  if (m == nullptr) return nullptr;
  for (const HistogramPoint& p : m->histograms) {
    if (p.labels == labels) return &p;
  }
  return nullptr;
}

const Labels kApiDbWait = {{"process.executable.name", "api"},
                           {"server.address", "10.0.0.5:5432"},
                           {"waitscope.wait.class", "db"}};
const Labels kOrdersStatement = {
    {"db.statement", "SELECT * FROM \"orders\" WHERE note = '\\n' AND id = ?"},
    {"db.system", "postgres"},
    {"process.executable.name", "api"},
    {"server.address", "10.0.0.5:5432"}};

TEST(MetricsAccumulator, CountersAddUpAcrossWindows) {
  MetricsAccumulator acc(AccumulatorOptions{.start_unix_ns = 5});
  acc.AddWindow(testing::SampleWindow());
  acc.AddWindow(testing::SampleWindow());
  const MetricSnapshot s = acc.Snapshot(100);
  EXPECT_EQ(s.start_unix_ns, 5);
  EXPECT_EQ(s.time_unix_ns, 100);
  ASSERT_NE(FindNumber(s, "waitscope.wait.time", kApiDbWait), nullptr);
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.wait.time", kApiDbWait)->value, 4.0);
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.wait.count", kApiDbWait)->value, 80);
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.db.statement.errors", kOrdersStatement)->value, 2);
  const HistogramPoint* h = FindHistogram(s, "waitscope.db.statement.duration", kOrdersStatement);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->count, 80u);
  EXPECT_DOUBLE_EQ(h->sum, 2 * 40 * 2500 / 1e6);
  const Labels cache = {{"db.system", "redis"},
                        {"process.executable.name", "api"},
                        {"server.address", "10.0.0.6:6379"}};
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.cache.reads", cache)->value, 40);
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.cache.hits", cache)->value, 30);
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.agent.parse.errors", {})->value, 4);
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.agent.payload.truncated", {})->value, 200);
}

TEST(MetricsAccumulator, CountersNeverDecrease) {
  MetricsAccumulator acc;
  std::map<std::pair<std::string, Labels>, double> previous;
  for (int window = 0; window < 6; ++window) {
    Report r = testing::SampleWindow();
    if (window % 2 == 1) r.waits.clear();  // quiet windows add nothing
    if (window == 3) r.queries.clear();
    acc.AddWindow(r);
    AgentHealth health;
    health.events = window == 4 ? 1 : 1000 * static_cast<std::uint64_t>(window);  // one bad read
    acc.SetHealth(health);
    for (const Metric& m : acc.Snapshot(window).metrics) {
      if (m.type == MetricType::kGauge) continue;
      for (const NumberPoint& p : m.numbers) {
        const auto key = std::make_pair(m.name, p.labels);
        if (previous.contains(key)) {
          EXPECT_GE(p.value, previous[key]) << m.name;
        }
        previous[key] = p.value;
      }
      for (const HistogramPoint& p : m.histograms) {
        const auto key = std::make_pair(m.name, p.labels);
        if (previous.contains(key)) {
          EXPECT_GE(static_cast<double>(p.count), previous[key]) << m.name;
        }
        previous[key] = static_cast<double>(p.count);
      }
    }
  }
  EXPECT_DOUBLE_EQ((previous[{"waitscope.agent.events", {}}]), 5000);
}

TEST(MetricsAccumulator, LabelsUseProcessNameAndKeepOnlyDatabaseTargets) {
  MetricsAccumulator acc;
  acc.AddWindow(testing::SampleWindow());
  const MetricSnapshot s = acc.Snapshot(0);
  const Metric* wait = FindMetric(s, "waitscope.wait.time");
  ASSERT_NE(wait, nullptr);
  for (const NumberPoint& p : wait->numbers) {
    for (const auto& [key, value] : p.labels) EXPECT_NE(key, "pid");
  }
  EXPECT_NE(FindNumber(s, "waitscope.wait.time",
                       {{"process.executable.name", "api"}, {"waitscope.wait.class", "disk"}}),
            nullptr);
  EXPECT_NE(FindNumber(s, "waitscope.wait.time",
                       {{"process.executable.name", "worker"}, {"waitscope.wait.class", "net"}}),
            nullptr);
  EXPECT_NE(FindNumber(s, "waitscope.http.server.requests",
                       {{"http.request.method", "GET"},
                        {"http.response.status_code", "500"},
                        {"http.route", "/orders/{id}"},
                        {"process.executable.name", "api"}}),
            nullptr);
  EXPECT_NE(FindHistogram(s, "waitscope.http.server.duration",
                          {{"http.request.method", "GET"},
                           {"http.route", "/orders/{id}"},
                           {"process.executable.name", "api"}}),
            nullptr);
  EXPECT_NE(FindNumber(s, "waitscope.connections.opened",
                       {{"network.peer.address", "10.0.0.7:0"},
                        {"network.protocol.name", "http"},
                        {"process.executable.name", "api"},
                        {"waitscope.connection.role", "server"}}),
            nullptr);
  const Labels tls = {{"network.peer.address", "10.0.0.8:443"},
                      {"process.executable.name", "worker"},
                      {"tls.protocol.version", "1.3"},
                      {"tls.resumed", "false"},
                      {"waitscope.connection.role", "client"}};
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.tls.handshakes", tls)->value, 4);
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.tls.handshake.failures", tls)->value, 1);
  // Only client connections have a connect latency.
  EXPECT_EQ(FindMetric(s, "waitscope.connect.duration")->histograms.size(), 1u);
}

TEST(MetricsAccumulator, SummaryBecomesLowerBoundBuckets) {
  static const std::vector<double> kBounds = {0.001, 0.005, 0.025, 0.1};
  ExplicitBuckets b(kBounds);
  // 100 samples: p50 1 ms, p95 5 ms, p99 20 ms, max 100 ms.
  b.AddSummary(testing::Summary(100, 4000, 1000, 5000, 20000, 100000));
  EXPECT_EQ(b.counts(), (std::vector<std::uint64_t>{50, 45, 4, 1, 0}));
  EXPECT_EQ(b.count(), 100u);
  EXPECT_DOUBLE_EQ(b.sum_s(), 0.4);
  // Few samples: ceil(q*n) never places more than n.
  static const std::vector<double> kOneBound = {0.001};
  ExplicitBuckets one(kOneBound);
  one.AddSummary(testing::Summary(1, 2000, 2000, 2000, 2000, 2000));
  EXPECT_EQ(one.counts(), (std::vector<std::uint64_t>{0, 1}));
}

TEST(MetricsAccumulator, ObservedValueOnABoundIsInThatBucket) {
  static const std::vector<double> kBounds = {0.001, 0.01};
  ExplicitBuckets b(kBounds);
  b.Observe(1'000'000);   // exactly 1 ms
  b.Observe(1'000'001);   // just above
  b.Observe(50'000'000);  // above every bound
  EXPECT_EQ(b.counts(), (std::vector<std::uint64_t>{1, 1, 1}));
}

TEST(MetricsAccumulator, ExactFeedReplacesSummaries) {
  AccumulatorOptions options;
  options.exact.statements = true;
  MetricsAccumulator acc(options);
  Report r = testing::SampleWindow();
  for (std::uint64_t ns : {200'000u, 2'000'000u, 30'000'000u}) {
    acc.AddStatementLatency({"api", "postgres", "10.0.0.5:5432", r.queries[0].statement, ns});
  }
  acc.AddWindow(r);
  const MetricSnapshot s = acc.Snapshot(0);
  const HistogramPoint* h = FindHistogram(s, "waitscope.db.statement.duration", kOrdersStatement);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->count, 3u);  // the feed only, not the row's 40 on top
  EXPECT_NEAR(h->sum, 0.0322, 1e-12);
  // Counters still come from the report.
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.db.statement.errors", kOrdersStatement)->value, 1);
  // Families not fed keep using the summaries.
  EXPECT_NE(FindMetric(s, "waitscope.http.server.duration"), nullptr);
}

TEST(MetricsAccumulator, GoneProcessesLoseTheirSeriesAfterNWindows) {
  AccumulatorOptions options;
  options.evict_after_windows = 2;
  MetricsAccumulator acc(options);
  acc.AddWindow(testing::SampleWindow());
  Report only_worker;
  only_worker.targets = {{11, "worker", ""}};
  const Labels api_disk = {{"process.executable.name", "api"}, {"waitscope.wait.class", "disk"}};

  acc.AddWindow(only_worker);  // api absent 1 window: kept
  MetricSnapshot s = acc.Snapshot(0);
  EXPECT_NE(FindNumber(s, "waitscope.wait.time", api_disk), nullptr);
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.agent.series.evicted", {})->value, 0);

  acc.AddWindow(only_worker);  // absent 2 windows: dropped
  s = acc.Snapshot(0);
  EXPECT_EQ(FindNumber(s, "waitscope.wait.time", api_disk), nullptr);
  EXPECT_EQ(FindHistogram(s, "waitscope.db.statement.duration", kOrdersStatement), nullptr);
  EXPECT_GT(FindNumber(s, "waitscope.agent.series.evicted", {})->value, 10);
  // The worker is still running: its series stay.
  EXPECT_NE(FindNumber(s, "waitscope.wait.time",
                       {{"process.executable.name", "worker"}, {"waitscope.wait.class", "net"}}),
            nullptr);
  // Process-less series (agent loss counters) are never evicted.
  EXPECT_NE(FindNumber(s, "waitscope.agent.parse.errors", {}), nullptr);
}

TEST(MetricsAccumulator, ASeriesMadeAgainStartsAtItsComeback) {
  // OTLP: a cumulative series that restarts from 0 must carry a new start
  // time, or consumers see one sequence whose total went down.
  AccumulatorOptions options;
  options.evict_after_windows = 1;
  options.start_unix_ns = 1'000;
  MetricsAccumulator acc(options);
  const Labels api_disk = {{"process.executable.name", "api"}, {"waitscope.wait.class", "disk"}};
  const Labels loss = {};
  acc.AddWindow(testing::SampleWindow(), 1'500);  // the first: from the agent's start
  EXPECT_EQ(FindNumber(acc.Snapshot(0), "waitscope.wait.time", api_disk)->start_unix_ns, 1'000);
  EXPECT_EQ(FindHistogram(acc.Snapshot(0), "waitscope.db.statement.duration", kOrdersStatement)
                ->start_unix_ns,
            1'000);

  acc.AddWindow(Report{}, 2'000);  // api gone: its series are dropped
  ASSERT_EQ(FindNumber(acc.Snapshot(0), "waitscope.wait.time", api_disk), nullptr);
  acc.AddWindow(testing::SampleWindow(), 3'000);  // and back
  const MetricSnapshot s = acc.Snapshot(4'000);
  EXPECT_EQ(FindNumber(s, "waitscope.wait.time", api_disk)->start_unix_ns, 3'000);
  EXPECT_EQ(FindHistogram(s, "waitscope.db.statement.duration", kOrdersStatement)->start_unix_ns,
            3'000);
  // Series that were never dropped keep the agent's start.
  EXPECT_EQ(FindNumber(s, "waitscope.agent.parse.errors", loss)->start_unix_ns, 1'000);
  EXPECT_EQ(s.start_unix_ns, 1'000);
}

TEST(MetricsAccumulator, SeriesLimitFoldsIntoOverflow) {
  AccumulatorOptions options;
  options.max_series_per_metric = 2;
  MetricsAccumulator acc(options);
  Report r;
  r.targets = {{1, "app", ""}};
  for (const char* stmt : {"SELECT 1", "SELECT 2", "SELECT 3", "SELECT 4"}) {
    QueryRow q;
    q.pid = 1;
    q.protocol = "mysql";
    q.peer = "127.0.0.1:3306";
    q.statement = stmt;
    q.count = 1;
    q.errors = 1;
    q.latency_us = testing::Summary(1, 10, 10, 10, 10, 10);
    r.queries.push_back(q);
  }
  acc.AddWindow(r);
  const MetricSnapshot s = acc.Snapshot(0);
  const Metric* errors = FindMetric(s, "waitscope.db.statement.errors");
  ASSERT_NE(errors, nullptr);
  EXPECT_EQ(errors->numbers.size(), 3u);
  EXPECT_DOUBLE_EQ(
      FindNumber(s, "waitscope.db.statement.errors", {{"otel.metric.overflow", "true"}})->value, 2);
}

TEST(MetricsAccumulator, FindingsAreTheLastWindowOnly) {
  MetricsAccumulator acc;
  Report r = testing::SampleWindow();
  r.findings.push_back(r.findings[0]);
  acc.AddWindow(r);
  const Labels labels = {{"process.executable.name", "api"},
                         {"waitscope.endpoint", "GET /orders/{id}"},
                         {"waitscope.finding.kind", "n_plus_one"},
                         {"waitscope.finding.severity", "warning"}};
  EXPECT_DOUBLE_EQ(FindNumber(acc.Snapshot(0), "waitscope.findings", labels)->value, 2);
  r.findings.clear();
  acc.AddWindow(r);
  EXPECT_EQ(FindMetric(acc.Snapshot(0), "waitscope.findings"), nullptr);
}

TEST(MetricsAccumulator, HealthCountersAreMonotonic) {
  MetricsAccumulator acc;
  AgentHealth h;
  h.events = 100;
  h.cpu_time_s = 2.5;
  h.memory_rss_bytes = 1 << 20;
  h.export_failures["otlp_metrics"] = 3;
  acc.SetHealth(h);
  h.events = 7;  // a loop that lost count must not publish a reset
  h.memory_rss_bytes = 1 << 19;
  acc.SetHealth(h);
  const MetricSnapshot s = acc.Snapshot(0);
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.agent.events", {})->value, 100);
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.agent.memory.rss", {})->value, 1 << 19);
  EXPECT_DOUBLE_EQ(FindNumber(s, "waitscope.agent.cpu.time", {})->value, 2.5);
  EXPECT_DOUBLE_EQ(
      FindNumber(s, "waitscope.agent.export.failures", {{"exporter", "otlp_metrics"}})->value, 3);
}

TEST(MetricsAccumulator, ReadSelfUsage) {
  AgentHealth h;
  ASSERT_TRUE(ReadSelfUsage(&h).ok());
  EXPECT_GT(h.memory_rss_bytes, 0u);
  EXPECT_GE(h.cpu_time_s, 0);
}

TEST(MetricsAccumulator, EveryCatalogMetricHasNameUnitAndHelp) {
  for (std::size_t i = 0; i < kMetricCount; ++i) {
    const MetricDef& d = Def(static_cast<MetricId>(i));
    EXPECT_TRUE(d.name.starts_with("waitscope.")) << d.name;
    EXPECT_FALSE(d.unit.empty()) << d.name;
    EXPECT_FALSE(d.description.empty()) << d.name;
    EXPECT_EQ(d.type == MetricType::kHistogram, !d.bounds.empty()) << d.name;
    EXPECT_TRUE(std::is_sorted(d.bounds.begin(), d.bounds.end())) << d.name;
  }
}

}  // namespace
}  // namespace waitscope::metrics
