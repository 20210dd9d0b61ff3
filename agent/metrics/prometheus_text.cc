#include "metrics/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <utility>
#include <vector>

namespace waitscope::metrics {
namespace {

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// UCUM units OpenTelemetry uses, as Prometheus' plural base-unit words.
std::string_view UnitWord(std::string_view unit) {
  static constexpr std::pair<std::string_view, std::string_view> kWords[] = {
      {"d", "days"},          {"h", "hours"},         {"min", "minutes"},    {"s", "seconds"},
      {"ms", "milliseconds"}, {"us", "microseconds"}, {"ns", "nanoseconds"}, {"By", "bytes"},
      {"KiBy", "kibibytes"},  {"MiBy", "mebibytes"},  {"GiBy", "gibibytes"}, {"KBy", "kilobytes"},
      {"MBy", "megabytes"},   {"GBy", "gigabytes"},   {"bit", "bits"},       {"Hz", "hertz"},
      {"%", "percent"},       {"Cel", "celsius"},
  };
  for (const auto& [ucum, word] : kWords) {
    if (ucum == unit) return word;
  }
  return {};
}

std::string_view PerUnitWord(std::string_view unit) {
  static constexpr std::pair<std::string_view, std::string_view> kWords[] = {
      {"s", "second"}, {"min", "minute"}, {"h", "hour"}, {"d", "day"}};
  for (const auto& [ucum, word] : kWords) {
    if (ucum == unit) return word;
  }
  return {};
}

std::string UnitSuffix(std::string_view unit, MetricType type) {
  // Annotations ("{event}") name what is counted, not a unit.
  if (unit.empty() || unit.front() == '{') return "";
  if (unit == "1") return type == MetricType::kGauge ? "ratio" : "";
  auto word = [](std::string_view u, std::string_view known) {
    return known.empty() ? SanitizeMetricName(u) : std::string(known);
  };
  const std::size_t slash = unit.find('/');
  if (slash != std::string_view::npos) {
    const std::string_view num = unit.substr(0, slash), den = unit.substr(slash + 1);
    return word(num, UnitWord(num)) + "_per_" + word(den, PerUnitWord(den));
  }
  return word(unit, UnitWord(unit));
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.ends_with(suffix);
}

void AppendEscaped(std::string* out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (quote && c == '"') {
      *out += "\\\"";
    } else {
      *out += c;
    }
  }
}

using PromLabels = std::vector<std::pair<std::string, std::string>>;

PromLabels ToPromLabels(const Labels& labels) {
  PromLabels out;
  out.reserve(labels.size());
  for (const auto& [key, value] : labels) out.emplace_back(SanitizeLabelName(key), value);
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  PromLabels merged;
  for (auto& entry : out) {
    if (!merged.empty() && merged.back().first == entry.first) {
      merged.back().second += ';';
      merged.back().second += entry.second;
    } else {
      merged.push_back(std::move(entry));
    }
  }
  return merged;
}

void AppendSample(std::string* out, std::string_view name, const PromLabels& labels,
                  const std::pair<std::string_view, std::string>* le, std::string_view value) {
  *out += name;
  if (!labels.empty() || le != nullptr) {
    *out += '{';
    bool first = true;
    auto add = [&](std::string_view key, std::string_view v) {
      if (!first) *out += ',';
      first = false;
      *out += key;
      *out += "=\"";
      AppendEscaped(out, v, /*quote=*/true);
      *out += '"';
    };
    for (const auto& [key, v] : labels) add(key, v);
    if (le != nullptr) add(le->first, le->second);
    *out += '}';
  }
  *out += ' ';
  *out += value;
  *out += '\n';
}

void AppendNumbers(std::string* out, const std::string& name, const Metric& m) {
  std::vector<std::pair<PromLabels, double>> points;
  for (const NumberPoint& p : m.numbers) points.emplace_back(ToPromLabels(p.labels), p.value);
  std::stable_sort(points.begin(), points.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [labels, value] : points) {
    AppendSample(out, name, labels, nullptr, FormatSampleValue(value));
  }
}

void AppendHistograms(std::string* out, const std::string& name, const Metric& m) {
  std::vector<std::pair<PromLabels, const HistogramPoint*>> points;
  for (const HistogramPoint& p : m.histograms) points.emplace_back(ToPromLabels(p.labels), &p);
  std::stable_sort(points.begin(), points.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::string bucket = name + "_bucket";
  for (const auto& [labels, p] : points) {
    std::uint64_t cumulative = 0;
    const std::size_t n = std::min(p->bounds.size(), p->counts.size());
    for (std::size_t i = 0; i < n; ++i) {
      cumulative += p->counts[i];
      const std::pair<std::string_view, std::string> le{"le", FormatSampleValue(p->bounds[i])};
      AppendSample(out, bucket, labels, &le, std::to_string(cumulative));
    }
    // +Inf must equal _count; taking `count` keeps that true even for a
    // point whose bucket counts do not add up.
    const std::pair<std::string_view, std::string> inf{"le", "+Inf"};
    AppendSample(out, bucket, labels, &inf, std::to_string(p->count));
    AppendSample(out, name + "_sum", labels, nullptr, FormatSampleValue(p->sum));
    AppendSample(out, name + "_count", labels, nullptr, std::to_string(p->count));
  }
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

// Appends c, or '_' for a character outside the name's alphabet, never two
// '_' in a row (the compatibility rules collapse runs; for label keys this
// also keeps out Prometheus' reserved "__" prefix).
void AppendNameChar(std::string* out, char c, bool colon_ok) {
  const bool kept = IsAlpha(c) || IsDigit(c) || (colon_ok && c == ':');
  if (kept) {
    *out += c;
  } else if (out->empty() || out->back() != '_') {
    *out += '_';
  }
}

std::string SanitizeMetricName(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  if (name.empty() || IsDigit(name.front())) out += '_';
  for (char c : name) AppendNameChar(&out, c, /*colon_ok=*/true);
  return out;
}

std::string SanitizeLabelName(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 4);
  for (char c : name) AppendNameChar(&out, c, /*colon_ok=*/false);
  if (out.empty() || IsDigit(out.front())) out.insert(0, "key_");
  return out;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  AppendEscaped(&out, value, /*quote=*/true);
  return out;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Whole numbers below 2^53 print as integers: counters read naturally and
  // never switch to exponent notation.
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<long long>(value));
  }
  // Shortest round-trip digits; plain decimals in the range people read
  // (bucket bounds like 0.0001 rather than 1e-04), exponents outside it.
  char buf[64];
  const double magnitude = std::fabs(value);
  const auto format =
      magnitude >= 1e-6 && magnitude < 1e15 ? std::chars_format::fixed : std::chars_format::general;
  const auto result = std::to_chars(buf, buf + sizeof(buf), value, format);
  return std::string(buf, result.ptr);
}

std::string PrometheusName(const Metric& metric) {
  std::string name = SanitizeMetricName(metric.name);
  const std::string unit = UnitSuffix(metric.unit, metric.type);
  if (!unit.empty() && !EndsWith(name, "_" + unit)) name += "_" + unit;
  if (metric.type == MetricType::kCounter && !EndsWith(name, "_total")) name += "_total";
  return name;
}

std::string EncodePrometheusText(const MetricSnapshot& snapshot) {
  std::vector<std::pair<std::string, const Metric*>> families;
  for (const Metric& m : snapshot.metrics) {
    if (m.numbers.empty() && m.histograms.empty()) continue;
    families.emplace_back(PrometheusName(m), &m);
  }
  std::stable_sort(families.begin(), families.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string out;
  std::set<std::string_view> written;
  for (const auto& [name, m] : families) {
    if (!written.insert(name).second) continue;
    out += "# HELP ";
    out += name;
    out += ' ';
    AppendEscaped(&out, m->description, /*quote=*/false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += TypeName(m->type);
    out += '\n';
    if (m->type == MetricType::kHistogram) {
      AppendHistograms(&out, name, *m);
    } else {
      AppendNumbers(&out, name, *m);
    }
  }
  return out;
}

}  // namespace waitscope::metrics
