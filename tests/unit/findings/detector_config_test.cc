#include "findings/detector_config.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace waitscope::findings {
namespace {

TEST(DetectorConfigTest, EveryKeyIsSettable) {
  const auto keys = DetectorOptionKeys();
  EXPECT_EQ(keys.size(), 13u);
  for (const std::string& key : keys) {
    DetectorConfig config;
    EXPECT_TRUE(SetDetectorOption(config, key, 1).ok()) << key;
  }
  for (const char* key :
       {"min_requests", "sync_io.min_share", "n_plus_one.min_repeats", "slow_query.p95_ms",
        "slow_query.min_share", "low_cache_hit_ratio.min_ratio", "low_cache_hit_ratio.min_reads",
        "pool_exhaustion.min_saturated_share", "pool_exhaustion.min_wait_ms",
        "connection_churn.min_per_request", "tls_full_handshake.min_full_share",
        "tls_full_handshake.min_handshakes", "event_loop_blocked.min_block_ms"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
}

TEST(DetectorConfigTest, ValuesLandInTheirFields) {
  DetectorConfig c;
  ASSERT_TRUE(SetDetectorOption(c, "min_requests", 3).ok());
  ASSERT_TRUE(SetDetectorOption(c, "sync_io.min_share", 0.35).ok());
  ASSERT_TRUE(SetDetectorOption(c, "slow_query.p95_ms", 250).ok());
  ASSERT_TRUE(SetDetectorOption(c, "event_loop_blocked.min_block_ms", 2.5).ok());
  EXPECT_EQ(c.min_requests, 3u);
  EXPECT_DOUBLE_EQ(c.sync_io_min_share, 0.35);
  EXPECT_DOUBLE_EQ(c.slow_query_p95_ms, 250);
  EXPECT_DOUBLE_EQ(c.event_loop_min_block_ms, 2.5);
}

TEST(DetectorConfigTest, BadKeysAndValuesAreErrorsNamingTheKey) {
  DetectorConfig c;
  const Status unknown = SetDetectorOption(c, "n_plus_one.repeats", 3);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("n_plus_one.repeats"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("n_plus_one.min_repeats"), std::string::npos);
  for (const auto& [key, value] : std::vector<std::pair<std::string, double>>{
           {"sync_io.min_share", 1.5},
           {"slow_query.p95_ms", -1},
           {"min_requests", 2.5},
           {"pool_exhaustion.min_wait_ms", std::numeric_limits<double>::quiet_NaN()}}) {
    const Status s = SetDetectorOption(c, key, value);
    ASSERT_FALSE(s.ok()) << key;
    EXPECT_NE(s.error().message.find(key), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().message.find('\n'), std::string::npos);
  }
  EXPECT_EQ(c.min_requests, DetectorConfig{}.min_requests);
}

}  // namespace
}  // namespace waitscope::findings
