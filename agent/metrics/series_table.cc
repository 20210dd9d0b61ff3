#include "metrics/series_table.h"

#include <algorithm>
#include <tuple>

#include "core/utf8.h"

namespace waitscope::metrics {

Labels MakeLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  Labels labels;
  labels.reserve(pairs.size());
  for (const auto& [key, value] : pairs) {
    // Values can hold any bytes a traced process chose (its name, a route);
    // Prometheus refuses a whole scrape over one label that is not UTF-8.
    if (!value.empty()) labels.emplace_back(std::string(key), ToValidUtf8(value));
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

SeriesTable::SeriesTable(std::size_t max_series_per_metric, std::int64_t start_unix_ns)
    : max_series_(max_series_per_metric), window_start_unix_ns_(start_unix_ns) {}

SeriesTable::Series& SeriesTable::Find(MetricId id, const Labels& labels,
                                       std::string_view process) {
  Family& family = families_[static_cast<std::size_t>(id)];
  auto it = family.find(labels);
  if (it != family.end()) return it->second;
  bool made = false;
  if (family.size() >= max_series_) {
    // Overflow series belong to no process: they hold the sums of many.
    static const Labels kOverflowLabels = {{std::string(label::kOverflow), "true"}};
    std::tie(it, made) = family.try_emplace(kOverflowLabels);
  } else {
    std::tie(it, made) = family.try_emplace(labels);
    it->second.process = std::string(process);
  }
  if (made) it->second.start_unix_ns = window_start_unix_ns_;
  const MetricDef& def = Def(id);
  if (def.type == MetricType::kHistogram && !it->second.histogram) {
    it->second.histogram.emplace(def.bounds);
  }
  return it->second;
}

void SeriesTable::Add(MetricId id, const Labels& labels, double delta, std::string_view process) {
  Find(id, labels, process).value += delta;
}

void SeriesTable::Set(MetricId id, const Labels& labels, double value, std::string_view process) {
  Find(id, labels, process).value = value;
}

void SeriesTable::SetMonotonic(MetricId id, const Labels& labels, double total) {
  Series& s = Find(id, labels, "");
  s.value = std::max(s.value, total);
}

ExplicitBuckets& SeriesTable::Histogram(MetricId id, const Labels& labels,
                                        std::string_view process) {
  return *Find(id, labels, process).histogram;
}

void SeriesTable::Clear(MetricId id) {
  families_[static_cast<std::size_t>(id)].clear();
}

std::size_t SeriesTable::EvictProcess(std::string_view process) {
  std::size_t dropped = 0;
  for (Family& family : families_) {
    dropped += std::erase_if(family, [&](const auto& entry) {
      return !entry.second.process.empty() && entry.second.process == process;
    });
  }
  return dropped;
}

std::size_t SeriesTable::size() const {
  std::size_t n = 0;
  for (const Family& family : families_) n += family.size();
  return n;
}

void SeriesTable::AppendTo(std::vector<Metric>* out) const {
  for (std::size_t i = 0; i < kMetricCount; ++i) {
    const Family& family = families_[i];
    if (family.empty()) continue;
    const MetricDef& def = Def(static_cast<MetricId>(i));
    Metric m;
    m.name = std::string(def.name);
    m.description = std::string(def.description);
    m.unit = std::string(def.unit);
    m.type = def.type;
    for (const auto& [labels, series] : family) {
      if (def.type != MetricType::kHistogram) {
        m.numbers.push_back(NumberPoint{labels, series.value, series.start_unix_ns});
        continue;
      }
      const ExplicitBuckets& h = *series.histogram;
      HistogramPoint p;
      p.labels = labels;
      p.bounds.assign(def.bounds.begin(), def.bounds.end());
      p.counts = h.counts();
      p.count = h.count();
      p.sum = h.sum_s();
      p.start_unix_ns = series.start_unix_ns;
      m.histograms.push_back(std::move(p));
    }
    out->push_back(std::move(m));
  }
}

}  // namespace waitscope::metrics
