#include "findings/finding_format.h"

#include <cmath>
#include <cstdio>

#include "report/display_text.h"

namespace waitscope::findings {

bool IsDatabaseProtocol(std::string_view p) {
  return p == "postgres" || p == "mysql" || p == "redis" || p == "memcached" || p == "mongodb";
}

Severity SeverityForShare(double share) {
  if (share >= kCriticalShare) return Severity::kCritical;
  if (share >= kWarningShare) return Severity::kWarning;
  return Severity::kInfo;
}

double Share(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

double Round(double value, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(value * scale) / scale;
}

double Ms(double ns) {
  return Round(ns / 1e6, 3);
}

std::string PercentText(double share) {
  if (share > 0 && share < 0.01) return "<1%";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100.0 * share);
  return buf;
}

std::string ShortText(std::string_view s, std::size_t width) {
  return TruncateMiddle(SanitizeForTerminal(s), width);
}

FindingRow MakeFinding(std::string kind, Severity severity, std::uint32_t pid, std::string endpoint,
                       std::string summary, const nlohmann::json& evidence, std::uint64_t cost_ns) {
  FindingRow f;
  f.kind = std::move(kind);
  f.severity = severity;
  f.pid = pid;
  f.endpoint = std::move(endpoint);
  f.summary = std::move(summary);
  // Replacing invalid UTF-8 keeps a crafted path from making dump() throw.
  f.evidence_json = evidence.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  f.cost_ns = cost_ns;
  return f;
}

}  // namespace waitscope::findings
