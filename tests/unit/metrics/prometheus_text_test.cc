#include "metrics/prometheus_text.h"

#include <gtest/gtest.h>

#include "metrics/metrics_accumulator.h"
#include "sample_data.h"

namespace waitscope::metrics {
namespace {

TEST(PrometheusText, GoldenOutput) {
  const std::string expected = R"(# HELP _9lives_metric_x_bytes Odd name
# TYPE _9lives_metric_x_bytes gauge
_9lives_metric_x_bytes{_reserved="w",a_b="1;2",key_0key="v"} 0.00001
# HELP cache_hit_ratio A ratio
# TYPE cache_hit_ratio gauge
cache_hit_ratio 0.75
# HELP requests_total Already ends in total
# TYPE requests_total counter
requests_total 7
# HELP waitscope_db_statement_duration_seconds Statement latency
# TYPE waitscope_db_statement_duration_seconds histogram
waitscope_db_statement_duration_seconds_bucket{db_statement="SELECT \"x\"",db_system="postgres",le="0.001"} 1
waitscope_db_statement_duration_seconds_bucket{db_statement="SELECT \"x\"",db_system="postgres",le="0.01"} 3
waitscope_db_statement_duration_seconds_bucket{db_statement="SELECT \"x\"",db_system="postgres",le="0.1"} 3
waitscope_db_statement_duration_seconds_bucket{db_statement="SELECT \"x\"",db_system="postgres",le="+Inf"} 4
waitscope_db_statement_duration_seconds_sum{db_statement="SELECT \"x\"",db_system="postgres"} 0.25
waitscope_db_statement_duration_seconds_count{db_statement="SELECT \"x\"",db_system="postgres"} 4
# HELP waitscope_wait_time_seconds_total Blocked \\ time\nper process
# TYPE waitscope_wait_time_seconds_total counter
waitscope_wait_time_seconds_total{process_executable_name="a\\b\nc",waitscope_wait_class="lock"} 1.5
waitscope_wait_time_seconds_total{process_executable_name="z\"quoted\"",waitscope_wait_class="disk"} 2
# HELP x_limit_bytes Special values
# TYPE x_limit_bytes gauge
x_limit_bytes{k="inf"} +Inf
x_limit_bytes{k="nan"} NaN
)";
  EXPECT_EQ(EncodePrometheusText(testing::GoldenSnapshot()), expected);
}

TEST(PrometheusText, NamesFollowUnitAndTypeConventions) {
  auto name = [](std::string_view n, std::string_view unit, MetricType type) {
    return PrometheusName(Metric{std::string(n), "", std::string(unit), type, {}, {}});
  };
  EXPECT_EQ(name("waitscope.wait.time", "s", MetricType::kCounter),
            "waitscope_wait_time_seconds_total");
  EXPECT_EQ(name("waitscope.agent.memory.rss", "By", MetricType::kGauge),
            "waitscope_agent_memory_rss_bytes");
  EXPECT_EQ(name("waitscope.wait.count", "{wait}", MetricType::kCounter),
            "waitscope_wait_count_total");
  EXPECT_EQ(name("io.rate", "By/s", MetricType::kGauge), "io_rate_bytes_per_second");
  EXPECT_EQ(name("x.duration_seconds", "s", MetricType::kHistogram), "x_duration_seconds");
  EXPECT_EQ(name("used", "1", MetricType::kCounter), "used_total");
  EXPECT_EQ(name("x.latency", "ms", MetricType::kGauge), "x_latency_milliseconds");
}

TEST(PrometheusText, Sanitizing) {
  EXPECT_EQ(SanitizeMetricName("a.b-c/d:e"), "a_b_c_d:e");
  EXPECT_EQ(SanitizeMetricName("1x"), "_1x");
  EXPECT_EQ(SanitizeMetricName(""), "_");
  EXPECT_EQ(SanitizeLabelName("server.address"), "server_address");
  EXPECT_EQ(SanitizeLabelName("a:b"), "a_b");  // ':' is valid in metric names only
  EXPECT_EQ(SanitizeLabelName("7up"), "key_7up");
  EXPECT_EQ(SanitizeLabelName("__name__"), "_name_");  // runs of '_' collapse: not reserved
  EXPECT_EQ(SanitizeMetricName("a..b__c"), "a_b_c");
  EXPECT_EQ(SanitizeLabelName("db..system"), "db_system");
  EXPECT_EQ(SanitizeLabelName("_ok"), "_ok");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

TEST(PrometheusText, ValueFormatting) {
  EXPECT_EQ(FormatSampleValue(0), "0");
  EXPECT_EQ(FormatSampleValue(12), "12");
  EXPECT_EQ(FormatSampleValue(-3), "-3");
  EXPECT_EQ(FormatSampleValue(0.005), "0.005");
  EXPECT_EQ(FormatSampleValue(2.5), "2.5");
  EXPECT_EQ(FormatSampleValue(0.0001), "0.0001");
  EXPECT_EQ(FormatSampleValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatSampleValue(1.5e-9), "1.5e-09");
  EXPECT_EQ(FormatSampleValue(1e300), "1e+300");
  EXPECT_EQ(FormatSampleValue(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(PrometheusText, FamiliesThatSanitizeAlikeKeepTheFirst) {
  MetricSnapshot s;
  s.metrics.push_back(Metric{"a.b", "first", "", MetricType::kGauge, {{{}, 1}}, {}});
  s.metrics.push_back(Metric{"a_b", "second", "", MetricType::kGauge, {{{}, 2}}, {}});
  EXPECT_EQ(EncodePrometheusText(s), "# HELP a_b first\n# TYPE a_b gauge\na_b 1\n");
}

TEST(PrometheusText, AccumulatorOutputIsDeterministic) {
  MetricsAccumulator acc;
  acc.AddWindow(testing::SampleWindow());
  const std::string first = EncodePrometheusText(acc.Snapshot(1));
  EXPECT_EQ(first, EncodePrometheusText(acc.Snapshot(1)));
  EXPECT_NE(first.find("waitscope_wait_time_seconds_total{process_executable_name=\"api\","
                       "server_address=\"10.0.0.5:5432\",waitscope_wait_class=\"db\"} 2\n"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find("# TYPE waitscope_db_statement_duration_seconds histogram\n"),
            std::string::npos);
  EXPECT_NE(first.find("db_statement=\"SELECT * FROM \\\"orders\\\" WHERE note = '\\\\n' AND id "
                       "= ?\""),
            std::string::npos)
      << first;
}

}  // namespace
}  // namespace waitscope::metrics
