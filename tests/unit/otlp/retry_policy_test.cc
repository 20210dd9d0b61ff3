// Retry policy: which answers are retried (OTLP spec table), backoff bounds
// with full jitter, Retry-After in both forms.
#include "otlp/retry_policy.h"

#include <gtest/gtest.h>

namespace waitscope::otlp {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicyTest, ClassifiesLikeTheOtlpSpec) {
  EXPECT_EQ(ClassifyStatus(200), Outcome::kDelivered);
  EXPECT_EQ(ClassifyStatus(204), Outcome::kDelivered);
  for (long status : {0L, 429L, 502L, 503L, 504L}) {
    EXPECT_EQ(ClassifyStatus(status), Outcome::kRetry) << status;
  }
  for (long status : {400L, 401L, 403L, 404L, 413L, 500L, 501L, 301L}) {
    EXPECT_EQ(ClassifyStatus(status), Outcome::kReject) << status;
  }
}

TEST(RetryPolicyTest, BackoffDoublesUpToTheCap) {
  RetryOptions options;
  options.initial_backoff = milliseconds(100);
  options.max_backoff = milliseconds(1000);
  EXPECT_EQ(BackoffCeiling(0, options), milliseconds(100));
  EXPECT_EQ(BackoffCeiling(1, options), milliseconds(200));
  EXPECT_EQ(BackoffCeiling(3, options), milliseconds(800));
  EXPECT_EQ(BackoffCeiling(4, options), milliseconds(1000));
  EXPECT_EQ(BackoffCeiling(1000, options), milliseconds(1000));  // no overflow
}

TEST(RetryPolicyTest, FullJitterStaysWithinZeroAndCeiling) {
  RetryOptions options;
  options.initial_backoff = milliseconds(100);
  options.max_backoff = milliseconds(1000);
  EXPECT_EQ(JitteredBackoff(2, options, 0.0), milliseconds(0));
  EXPECT_EQ(JitteredBackoff(2, options, 0.5), milliseconds(200));
  for (int attempt = 0; attempt < 40; ++attempt) {
    for (double u : {0.0, 0.25, 0.999999, 1.0, 7.0, -1.0}) {
      const auto d = JitteredBackoff(attempt, options, u);
      EXPECT_GE(d, milliseconds(0));
      EXPECT_LE(d, BackoffCeiling(attempt, options));
    }
  }
}

TEST(RetryPolicyTest, RetryAfterSeconds) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(ParseRetryAfter("120", now), milliseconds(120000));
  EXPECT_EQ(ParseRetryAfter(" 3 ", now), milliseconds(3000));
  EXPECT_EQ(ParseRetryAfter("0", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("99999999999999999999", now), milliseconds(86400000));
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
}

TEST(RetryPolicyTest, RetryAfterHttpDateInAllThreeForms) {
  // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480.
  const auto date = std::chrono::system_clock::from_time_t(1445412480);
  const auto now = date - std::chrono::seconds(10);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now), milliseconds(10000));
  EXPECT_EQ(ParseRetryAfter("Wednesday, 21-Oct-15 07:28:00 GMT", now), milliseconds(10000));
  EXPECT_EQ(ParseRetryAfter("Wed Oct 21 07:28:00 2015", now), milliseconds(10000));
  // A date already past means "now".
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", date + std::chrono::hours(1)),
            milliseconds(0));
}

TEST(RetryPolicyTest, NextDelayPrefersRetryAfterButClampsIt) {
  RetryOptions options;
  options.initial_backoff = milliseconds(100);
  options.max_backoff = milliseconds(1000);
  options.max_retry_after = milliseconds(60000);
  EXPECT_EQ(NextDelay(5, milliseconds(2000), options, 0.5), milliseconds(2000));
  EXPECT_EQ(NextDelay(5, milliseconds(3600000), options, 0.5), milliseconds(60000));
  EXPECT_EQ(NextDelay(0, std::nullopt, options, 0.5), milliseconds(50));
}

}  // namespace
}  // namespace waitscope::otlp
