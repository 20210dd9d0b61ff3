#include "findings/detector_config.h"

#include <cmath>

namespace waitscope::findings {
namespace {

enum class Range { kCount, kPositive, kRatio };

struct OptionSpec {
  std::string_view key;
  Range range;
  double DetectorConfig::*real = nullptr;
  std::uint64_t DetectorConfig::*count = nullptr;
};

// One table so SetDetectorOption and DetectorOptionKeys cannot disagree.
constexpr OptionSpec kOptions[] = {
    {"min_requests", Range::kCount, nullptr, &DetectorConfig::min_requests},
    {"sync_io.min_share", Range::kRatio, &DetectorConfig::sync_io_min_share, nullptr},
    {"n_plus_one.min_repeats", Range::kCount, nullptr, &DetectorConfig::n_plus_one_min_repeats},
    {"slow_query.p95_ms", Range::kPositive, &DetectorConfig::slow_query_p95_ms, nullptr},
    {"slow_query.min_share", Range::kRatio, &DetectorConfig::slow_query_min_share, nullptr},
    {"low_cache_hit_ratio.min_ratio", Range::kRatio, &DetectorConfig::cache_min_hit_ratio, nullptr},
    {"low_cache_hit_ratio.min_reads", Range::kCount, nullptr, &DetectorConfig::cache_min_reads},
    {"pool_exhaustion.min_saturated_share", Range::kRatio,
     &DetectorConfig::pool_min_saturated_share, nullptr},
    {"pool_exhaustion.min_wait_ms", Range::kPositive, &DetectorConfig::pool_min_wait_ms, nullptr},
    {"connection_churn.min_per_request", Range::kPositive,
     &DetectorConfig::churn_min_connects_per_request, nullptr},
    {"tls_full_handshake.min_full_share", Range::kRatio, &DetectorConfig::tls_min_full_share,
     nullptr},
    {"tls_full_handshake.min_handshakes", Range::kCount, nullptr,
     &DetectorConfig::tls_min_handshakes},
    {"event_loop_blocked.min_block_ms", Range::kPositive, &DetectorConfig::event_loop_min_block_ms,
     nullptr},
};

// Counts above this are typing mistakes, and keep the double -> integer cast defined.
constexpr double kMaxCount = 1e12;

}  // namespace

Status SetDetectorOption(DetectorConfig& config, std::string_view key, double value) {
  for (const OptionSpec& o : kOptions) {
    if (o.key != key) continue;
    const std::string name(key);
    if (!std::isfinite(value) || value < 0) {
      return Error{"finding option '" + name + "' must be a number >= 0"};
    }
    switch (o.range) {
      case Range::kRatio:
        if (value > 1) return Error{"finding option '" + name + "' is a ratio between 0 and 1"};
        break;
      case Range::kCount:
        if (value != std::floor(value) || value > kMaxCount) {
          return Error{"finding option '" + name + "' must be a whole number"};
        }
        break;
      case Range::kPositive:
        break;
    }
    if (o.real != nullptr) {
      config.*o.real = value;
    } else {
      config.*o.count = static_cast<std::uint64_t>(value);
    }
    return Status::Ok();
  }
  std::string known;
  for (const OptionSpec& o : kOptions) known += (known.empty() ? "" : ", ") + std::string(o.key);
  return Error{"unknown finding option '" + std::string(key) + "' (known: " + known + ")"};
}

std::vector<std::string> DetectorOptionKeys() {
  std::vector<std::string> keys;
  for (const OptionSpec& o : kOptions) keys.emplace_back(o.key);
  return keys;
}

}  // namespace waitscope::findings
