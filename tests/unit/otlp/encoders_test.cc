// Encoders, read back with the C++ classes generated from the official
// .proto files. This checks the mapping (temporality, monotonic sums, bounds,
// timestamps, resource, flattened evidence); that the bytes are valid OTLP for
// an independent decoder is checked by tests/otlp (Python protobuf runtime).
#include <gtest/gtest.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "otlp/exporter_metrics.h"
#include "otlp/logs_encoder.h"
#include "otlp/metrics_encoder.h"
#include "otlp/pyroscope_pusher.h"
#include "otlp/resource.h"

namespace waitscope::otlp {
namespace {

namespace pb_common = opentelemetry::proto::common::v1;
namespace pb_metrics = opentelemetry::proto::metrics::v1;

template <typename Repeated>
const pb_common::AnyValue* Find(const Repeated& attributes, const std::string& key) {
  for (const auto& kv : attributes) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

metrics::MetricSnapshot Snapshot() {
  metrics::MetricSnapshot s;
  s.start_unix_ns = 1700000000000000000;
  s.time_unix_ns = 1700000010000000000;
  s.metrics.push_back({"waitscope.wait.time",
                       "Blocked time",
                       "s",
                       metrics::MetricType::kCounter,
                       {{{{"class", "disk"}, {"pid", "42"}}, 1.5}},
                       {}});
  s.metrics.push_back({"waitscope.connections.open",
                       "Open connections",
                       "{connection}",
                       metrics::MetricType::kGauge,
                       {{{{"peer", "10.0.0.1:5432"}}, 7}},
                       {}});
  metrics::HistogramPoint h;
  h.labels = {{"endpoint", "GET /x"}};
  h.bounds = {0.001, 0.01, 0.1};
  h.counts = {1, 2, 3, 4};
  h.count = 10;
  h.sum = 1.25;
  h.start_unix_ns = 1700000005000000000;  // made after the agent started
  s.metrics.push_back(
      {"waitscope.http.server.duration", "Latency", "s", metrics::MetricType::kHistogram, {}, {h}});
  return s;
}

TEST(MetricsEncoderTest, MapsTypesTimestampsAndResource) {
  const ResourceInfo resource =
      BuildResource("", {{"deployment.environment", "test"}, {"host.name", "box1"}}, "0.1.0");
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(EncodeMetricsRequest(Snapshot(), resource)));
  ASSERT_EQ(req.resource_metrics_size(), 1);
  const auto& rm = req.resource_metrics(0);
  EXPECT_EQ(Find(rm.resource().attributes(), "service.name")->string_value(), "waitscope");
  EXPECT_EQ(Find(rm.resource().attributes(), "host.name")->string_value(), "box1");
  EXPECT_EQ(Find(rm.resource().attributes(), "deployment.environment")->string_value(), "test");
  ASSERT_EQ(rm.scope_metrics_size(), 1);
  EXPECT_EQ(rm.scope_metrics(0).scope().name(), "waitscope");
  EXPECT_EQ(rm.scope_metrics(0).scope().version(), "0.1.0");
  const auto& ms = rm.scope_metrics(0).metrics();
  ASSERT_EQ(ms.size(), 3);

  EXPECT_EQ(ms[0].name(), "waitscope.wait.time");
  EXPECT_EQ(ms[0].unit(), "s");
  ASSERT_TRUE(ms[0].has_sum());
  EXPECT_TRUE(ms[0].sum().is_monotonic());
  EXPECT_EQ(ms[0].sum().aggregation_temporality(), pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
  const auto& dp = ms[0].sum().data_points(0);
  EXPECT_EQ(dp.start_time_unix_nano(), 1700000000000000000u);
  EXPECT_EQ(dp.time_unix_nano(), 1700000010000000000u);
  EXPECT_DOUBLE_EQ(dp.as_double(), 1.5);
  EXPECT_EQ(Find(dp.attributes(), "class")->string_value(), "disk");
  EXPECT_EQ(Find(dp.attributes(), "pid")->string_value(), "42");

  ASSERT_TRUE(ms[1].has_gauge());
  EXPECT_DOUBLE_EQ(ms[1].gauge().data_points(0).as_double(), 7);
  EXPECT_EQ(ms[1].gauge().data_points(0).time_unix_nano(), 1700000010000000000u);

  ASSERT_TRUE(ms[2].has_histogram());
  EXPECT_EQ(ms[2].histogram().aggregation_temporality(),
            pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
  const auto& hp = ms[2].histogram().data_points(0);
  EXPECT_EQ(hp.start_time_unix_nano(), 1700000005000000000u);  // its own, not the snapshot's
  EXPECT_EQ(hp.count(), 10u);
  EXPECT_DOUBLE_EQ(hp.sum(), 1.25);
  EXPECT_EQ(std::vector<double>(hp.explicit_bounds().begin(), hp.explicit_bounds().end()),
            (std::vector<double>{0.001, 0.01, 0.1}));
  EXPECT_EQ(std::vector<std::uint64_t>(hp.bucket_counts().begin(), hp.bucket_counts().end()),
            (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

TEST(ResourceTest, ServiceNameDefaultsAndOverrides) {
  EXPECT_EQ(BuildResource("", {}, "v").attributes.front(),
            (std::pair<std::string, std::string>{"service.name", "waitscope"}));
  EXPECT_EQ(BuildResource("checkout", {}, "v").attributes.front().second, "checkout");
  EXPECT_EQ(
      BuildResource("checkout", {{"service.name", "env-wins"}}, "v").attributes.front().second,
      "env-wins");
}

TEST(LogsEncoderTest, OneRecordPerFindingWithFlattenedEvidence) {
  FindingRow slow;
  slow.kind = "slow_query";
  slow.severity = Severity::kCritical;
  slow.pid = 1234;
  slow.endpoint = "GET /orders/{id}";
  slow.summary = "SELECT ... is slow";
  slow.cost_ns = 5000;
  slow.evidence_json = R"({"p95_us": 20000, "share": 0.5, "statement": "SELECT ?",
                           "pool": {"size": 10}, "peers": ["a", "b"]})";
  FindingRow odd;
  odd.kind = "n_plus_one";
  odd.severity = Severity::kInfo;
  odd.evidence_json = "not json";
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(
      EncodeLogsRequest({slow, odd}, 1700000010000000000, BuildResource("svc", {}, "v"))));
  const auto& records = req.resource_logs(0).scope_logs(0).log_records();
  ASSERT_EQ(records.size(), 2);
  const auto& r = records[0];
  EXPECT_EQ(r.time_unix_nano(), 1700000010000000000u);
  EXPECT_EQ(r.severity_number(), opentelemetry::proto::logs::v1::SEVERITY_NUMBER_ERROR);
  EXPECT_EQ(r.severity_text(), "critical");
  EXPECT_EQ(r.body().string_value(), "SELECT ... is slow");
  EXPECT_EQ(r.event_name(), "waitscope.finding");
  EXPECT_EQ(Find(r.attributes(), "waitscope.finding.kind")->string_value(), "slow_query");
  EXPECT_EQ(Find(r.attributes(), "waitscope.finding.pid")->int_value(), 1234);
  EXPECT_EQ(Find(r.attributes(), "waitscope.finding.endpoint")->string_value(), "GET /orders/{id}");
  EXPECT_EQ(Find(r.attributes(), "waitscope.finding.cost_ns")->int_value(), 5000);
  EXPECT_EQ(Find(r.attributes(), "waitscope.finding.evidence.p95_us")->int_value(), 20000);
  EXPECT_DOUBLE_EQ(Find(r.attributes(), "waitscope.finding.evidence.share")->double_value(), 0.5);
  EXPECT_EQ(Find(r.attributes(), "waitscope.finding.evidence.statement")->string_value(),
            "SELECT ?");
  EXPECT_EQ(Find(r.attributes(), "waitscope.finding.evidence.pool.size")->int_value(), 10);
  EXPECT_EQ(Find(r.attributes(), "waitscope.finding.evidence.peers")->array_value().values_size(),
            2);
  EXPECT_EQ(records[1].severity_number(), opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO);
  EXPECT_EQ(Find(records[1].attributes(), "waitscope.finding.endpoint"), nullptr);
  EXPECT_EQ(Find(records[1].attributes(), "waitscope.finding.evidence")->string_value(),
            "not json");
}

// Names, routes and statements are bytes a traced process chose; a proto3
// `string` must be UTF-8, and the C++ runtime (like a collector) refuses to
// parse a request holding one that is not.
TEST(EncodersTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  metrics::MetricSnapshot s = Snapshot();
  s.metrics[0].numbers[0].labels = {{"process.executable.name", "bad\xff\xfe"}};
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest metrics_req;
  ASSERT_TRUE(metrics_req.ParseFromString(
      EncodeMetricsRequest(s, BuildResource("svc", {{"team", "\xc3("}}, "v"))));
  const auto& point =
      metrics_req.resource_metrics(0).scope_metrics(0).metrics(0).sum().data_points(0);
  EXPECT_EQ(Find(point.attributes(), "process.executable.name")->string_value(),
            "bad\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Find(metrics_req.resource_metrics(0).resource().attributes(), "team")->string_value(),
            "\xEF\xBF\xBD(");

  FindingRow f;
  f.kind = "slow_query";
  f.endpoint = "GET /\xff";
  f.summary = "GET \xe2\x82 is slow";  // a sequence cut short
  f.evidence_json = R"({"statement": "SELECT ?"})";
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest logs_req;
  ASSERT_TRUE(logs_req.ParseFromString(EncodeLogsRequest({f}, 1, BuildResource("svc", {}, "v"))));
  const auto& r = logs_req.resource_logs(0).scope_logs(0).log_records(0);
  EXPECT_EQ(r.body().string_value(), "GET \xEF\xBF\xBD\xEF\xBF\xBD is slow");
  EXPECT_EQ(Find(r.attributes(), "waitscope.finding.endpoint")->string_value(),
            "GET /\xEF\xBF\xBD");
}

TEST(PyroscopeTest, IngestQueryEncodesNameAndLabels) {
  PyroscopeOptions options;
  options.app_name = "waitscope.wait";
  options.labels = {{"host", "box 1"}, {"env", "prod"}};
  EXPECT_EQ(PyroscopeIngestQuery(options, 1700000000, 1700000010),
            "name=waitscope.wait%7Bhost%3Dbox%201%2Cenv%3Dprod%7D&from=1700000000&until=1700000010"
            "&format=pprof");
  options.labels.clear();
  options.sample_rate = 99;
  EXPECT_EQ(PyroscopeIngestQuery(options, 1, 2),
            "name=waitscope.wait&from=1&until=2&format=pprof&sampleRate=99");
}

TEST(ExporterMetricsTest, AppendsCountersAndGaugesPerExporter) {
  metrics::MetricSnapshot snapshot;
  SenderStats stats;
  stats.sent = 5;
  stats.dropped_oldest = 2;
  stats.spool_bytes = 100;
  AppendSenderMetrics(stats, "otlp_metrics", &snapshot);
  AppendSenderMetrics(stats, "pyroscope", &snapshot);
  ASSERT_EQ(snapshot.metrics.size(), 3u);
  EXPECT_EQ(snapshot.metrics[0].name, "waitscope.exporter.requests");
  EXPECT_EQ(snapshot.metrics[0].numbers.size(), 14u);
  const auto& dropped = snapshot.metrics[0].numbers[0];
  EXPECT_EQ(dropped.labels,
            (metrics::Labels{{"exporter", "otlp_metrics"}, {"outcome", "dropped"}}));
  EXPECT_EQ(dropped.value, 2);
  EXPECT_EQ(snapshot.metrics[1].numbers.size(), 2u);
  EXPECT_EQ(snapshot.metrics[1].numbers[1].value, 100);
}

}  // namespace
}  // namespace waitscope::otlp
