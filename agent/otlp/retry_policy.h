// When to send a failed request again, and after how long. Follows the
// OTLP/HTTP specification (opentelemetry-proto docs/specification.md,
// "Retryable Response Codes", "OTLP/HTTP Throttling", "OTLP/HTTP Connection"):
//  - 2xx: delivered;
//  - 429, 502, 503, 504 and no response at all (connection refused, reset,
//    timeout): retry, waiting what Retry-After says when the server sent it,
//    otherwise an exponential backoff with full jitter;
//  - every other status, 5xx included ("All other 4xx or 5xx response status
//    codes MUST NOT be retried"): the request is dropped and counted rejected.
// A request is retried until it is delivered or pushed out of the bounded
// spool; there is no attempt limit, so an outage costs data only once the
// spool is full. Pure functions: thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "otlp/options.h"

namespace waitscope::otlp {

enum class Outcome { kDelivered, kRetry, kReject };

// `status` is the HTTP status, or 0 when no response arrived.
Outcome ClassifyStatus(long status);

// Upper bound of the wait before retry number `attempt` (0 = first retry):
// min(max_backoff, initial_backoff * 2^attempt).
std::chrono::milliseconds BackoffCeiling(int attempt, const RetryOptions& options);

// Full jitter: `unit_random` in [0, 1) picks uniformly in [0, ceiling], so
// agents that lost the same collector do not come back in lockstep.
std::chrono::milliseconds JitteredBackoff(int attempt, const RetryOptions& options,
                                          double unit_random);

// Retry-After as delay-seconds ("120") or HTTP-date ("Wed, 21 Oct 2015
// 07:28:00 GMT", and RFC 850 / asctime forms). A date in the past gives 0.
// nullopt when absent or unreadable (the caller falls back to backoff).
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

// The wait before the next attempt: Retry-After (clamped to max_retry_after)
// when present, otherwise the jittered backoff.
std::chrono::milliseconds NextDelay(int attempt,
                                    std::optional<std::chrono::milliseconds> retry_after,
                                    const RetryOptions& options, double unit_random);

}  // namespace waitscope::otlp
