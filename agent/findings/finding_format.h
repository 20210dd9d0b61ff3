// Helpers every detector shares, so findings read alike: which protocols are
// databases, the severity rule, number formats for summaries and evidence, and
// the FindingRow constructor.
//
// Severity rule (one for every detector that has request time to compare
// with): the finding's cost as a share of the time of the requests it affects
// (the endpoint's, or for process-wide findings the process's request time).
//   share >= 0.5   critical: the problem is most of the latency
//   share >= 0.1   warning
//   below          info: real, but small next to everything else
// Detectors without request time (cache, TLS, event loop) document their own
// rule in their .cc file.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "report/report.h"

namespace waitscope::findings {

inline constexpr double kCriticalShare = 0.5;
inline constexpr double kWarningShare = 0.1;

// Protocols whose waits are database/cache time (class db), not "outbound I/O".
bool IsDatabaseProtocol(std::string_view protocol);

Severity SeverityForShare(double share);

// part / whole, 0 when whole is 0.
double Share(std::uint64_t part, std::uint64_t whole);

// Values for evidence: milliseconds and shares rounded so the JSON stays readable.
double Ms(double ns);
double Round(double value, int digits);

// "92%", "<1%" for small nonzero shares.
std::string PercentText(double share);

// A statement, path or peer for a summary sentence: sanitized, and
// middle-truncated to `width` columns (the tail of SQL holds the WHERE clause).
std::string ShortText(std::string_view s, std::size_t width = 60);

FindingRow MakeFinding(std::string kind, Severity severity, std::uint32_t pid, std::string endpoint,
                       std::string summary, const nlohmann::json& evidence, std::uint64_t cost_ns);

}  // namespace waitscope::findings
