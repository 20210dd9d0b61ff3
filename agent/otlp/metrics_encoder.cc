#include "otlp/metrics_encoder.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "otlp/proto_util.h"

namespace waitscope::otlp {

namespace pb_metrics = opentelemetry::proto::metrics::v1;

namespace {

template <typename Point>
void SetLabels(const metrics::Labels& labels, Point* point) {
  for (const auto& [key, value] : labels) SetString(point->add_attributes(), key, value);
}

// A series made after the agent started (or made again after an eviction)
// began then: a new sequence, not a counter that went down. Points without a
// start of their own (hand-built snapshots) use the snapshot's.
std::uint64_t PointStart(std::int64_t point_start_unix_ns, std::uint64_t snapshot_start) {
  return point_start_unix_ns > 0 ? static_cast<std::uint64_t>(point_start_unix_ns) : snapshot_start;
}

}  // namespace

std::string EncodeMetricsRequest(const metrics::MetricSnapshot& snapshot,
                                 const ResourceInfo& resource) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest request;
  auto* rm = request.add_resource_metrics();
  FillResource(resource, rm->mutable_resource());
  auto* sm = rm->add_scope_metrics();
  FillScope(resource, sm->mutable_scope());
  const auto start = static_cast<std::uint64_t>(snapshot.start_unix_ns);
  const auto time = static_cast<std::uint64_t>(snapshot.time_unix_ns);

  for (const metrics::Metric& metric : snapshot.metrics) {
    auto* m = sm->add_metrics();
    m->set_name(metric.name);
    m->set_description(metric.description);
    m->set_unit(metric.unit);
    switch (metric.type) {
      case metrics::MetricType::kCounter: {
        auto* sum = m->mutable_sum();
        sum->set_is_monotonic(true);
        sum->set_aggregation_temporality(pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (const metrics::NumberPoint& p : metric.numbers) {
          auto* dp = sum->add_data_points();
          SetLabels(p.labels, dp);
          dp->set_start_time_unix_nano(PointStart(p.start_unix_ns, start));
          dp->set_time_unix_nano(time);
          dp->set_as_double(p.value);
        }
        break;
      }
      case metrics::MetricType::kGauge: {
        auto* gauge = m->mutable_gauge();
        for (const metrics::NumberPoint& p : metric.numbers) {
          auto* dp = gauge->add_data_points();
          SetLabels(p.labels, dp);
          dp->set_time_unix_nano(time);
          dp->set_as_double(p.value);
        }
        break;
      }
      case metrics::MetricType::kHistogram: {
        auto* histogram = m->mutable_histogram();
        histogram->set_aggregation_temporality(pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (const metrics::HistogramPoint& p : metric.histograms) {
          auto* dp = histogram->add_data_points();
          SetLabels(p.labels, dp);
          dp->set_start_time_unix_nano(PointStart(p.start_unix_ns, start));
          dp->set_time_unix_nano(time);
          dp->set_count(p.count);
          dp->set_sum(p.sum);
          for (double bound : p.bounds) dp->add_explicit_bounds(bound);
          for (std::uint64_t count : p.counts) dp->add_bucket_counts(count);
        }
        break;
      }
    }
  }
  return request.SerializeAsString();
}

}  // namespace waitscope::otlp
