#include "otlp/exporter_metrics.h"

#include <algorithm>

namespace waitscope::otlp {
namespace {

metrics::Metric& FindOrAdd(metrics::MetricSnapshot* snapshot, const std::string& name,
                           const std::string& description, const std::string& unit,
                           metrics::MetricType type) {
  auto& all = snapshot->metrics;
  auto it = std::find_if(all.begin(), all.end(), [&](const auto& m) { return m.name == name; });
  if (it != all.end()) return *it;
  all.push_back(metrics::Metric{name, description, unit, type, {}, {}});
  return all.back();
}

}  // namespace

void AppendSenderMetrics(const SenderStats& stats, const std::string& exporter,
                         metrics::MetricSnapshot* snapshot) {
  auto& requests = FindOrAdd(snapshot, "waitscope.exporter.requests",
                             "Export requests by outcome: sent (partial: of those, taken only in "
                             "part), retried, failed attempts, rejected by the server, dropped "
                             "(spool full, oldest first), lost (disk)",
                             "{request}", metrics::MetricType::kCounter);
  const std::pair<const char*, std::uint64_t> outcomes[] = {{"dropped", stats.dropped_oldest},
                                                            {"failed", stats.failed_attempts},
                                                            {"lost", stats.lost},
                                                            {"partial", stats.partial},
                                                            {"rejected", stats.rejected},
                                                            {"retried", stats.retried},
                                                            {"sent", stats.sent}};
  for (const auto& [outcome, value] : outcomes) {
    requests.numbers.push_back(
        {{{"exporter", exporter}, {"outcome", outcome}}, static_cast<double>(value)});
  }
  FindOrAdd(snapshot, "waitscope.exporter.spool.size",
            "Bytes of export requests waiting to be sent", "By", metrics::MetricType::kGauge)
      .numbers.push_back({{{"exporter", exporter}}, static_cast<double>(stats.spool_bytes)});
  FindOrAdd(snapshot, "waitscope.exporter.spool.entries", "Export requests waiting to be sent",
            "{request}", metrics::MetricType::kGauge)
      .numbers.push_back({{{"exporter", exporter}}, static_cast<double>(stats.spool_entries)});
}

}  // namespace waitscope::otlp
