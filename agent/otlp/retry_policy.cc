#include "otlp/retry_policy.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace waitscope::otlp {

using std::chrono::milliseconds;

Outcome ClassifyStatus(long status) {
  if (status >= 200 && status < 300) return Outcome::kDelivered;
  switch (status) {
    case 0:  // no response: the spec's "OTLP/HTTP Connection" case
    case 429:
    case 502:
    case 503:
    case 504:
      return Outcome::kRetry;
    default:
      return Outcome::kReject;
  }
}

milliseconds BackoffCeiling(int attempt, const RetryOptions& options) {
  const auto initial = std::max<milliseconds::rep>(options.initial_backoff.count(), 1);
  const auto cap = std::max<milliseconds::rep>(options.max_backoff.count(), initial);
  milliseconds::rep ceiling = initial;
  // Doubling stops at the cap, so no shift ever overflows.
  for (int i = 0; i < attempt && ceiling < cap; ++i) ceiling *= 2;
  return milliseconds(std::min(ceiling, cap));
}

milliseconds JitteredBackoff(int attempt, const RetryOptions& options, double unit_random) {
  const double u = std::clamp(unit_random, 0.0, 1.0);
  const auto ceiling = BackoffCeiling(attempt, options).count();
  return milliseconds(static_cast<milliseconds::rep>(u * static_cast<double>(ceiling)));
}

std::optional<milliseconds> ParseRetryAfter(std::string_view value,
                                            std::chrono::system_clock::time_point now) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
    value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
    value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    // More than a day is as good as forever here; the cap applies later anyway.
    if (value.size() > 9) return milliseconds(86400000);
    return milliseconds(std::stoll(std::string(value)) * 1000);
  }
  // curl_getdate reads the three HTTP date forms (RFC 7231 section 7.1.1.1).
  const time_t when = curl_getdate(std::string(value).c_str(), nullptr);
  if (when < 0) return std::nullopt;
  const auto delay = std::chrono::system_clock::from_time_t(when) - now;
  return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(delay));
}

milliseconds NextDelay(int attempt, std::optional<milliseconds> retry_after,
                       const RetryOptions& options, double unit_random) {
  if (retry_after) return std::min(*retry_after, options.max_retry_after);
  return JitteredBackoff(attempt, options, unit_random);
}

}  // namespace waitscope::otlp
