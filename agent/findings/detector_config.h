// Thresholds of the findings detectors. Every one has a default that suits a
// typical web backend; `waitscope record --finding KEY=VALUE` and the agent's
// `findings:` section in waitscope.yaml override them by their dotted key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace waitscope::findings {

struct DetectorConfig {
  // Requests an endpoint needs before any per-endpoint finding is made.
  std::uint64_t min_requests = 5;  // "min_requests"
  // sync_io_in_request_path: share of request time in one non-DB call/path.
  double sync_io_min_share = 0.20;  // "sync_io.min_share"
  // n_plus_one: same statement this many times within one request.
  std::uint64_t n_plus_one_min_repeats = 5;  // "n_plus_one.min_repeats"
  // slow_query: p95 at or above this, or share of all DB time at or above.
  double slow_query_p95_ms = 100;     // "slow_query.p95_ms"
  double slow_query_min_share = 0.5;  // "slow_query.min_share"
  // low_cache_hit_ratio: below this ratio with at least min_reads reads.
  double cache_min_hit_ratio = 0.80;   // "low_cache_hit_ratio.min_ratio"
  std::uint64_t cache_min_reads = 50;  // "low_cache_hit_ratio.min_reads"
  // pool_exhaustion: saturated for this share of busy time, and requests
  // wait at least this long (p95) before their first statement.
  double pool_min_saturated_share = 0.5;  // "pool_exhaustion.min_saturated_share"
  double pool_min_wait_ms = 5;            // "pool_exhaustion.min_wait_ms"
  // connection_churn: new connections per request at or above this.
  double churn_min_connects_per_request = 0.9;  // "connection_churn.min_per_request"
  // tls_full_handshake: share of handshakes that are full, and a minimum count.
  double tls_min_full_share = 0.5;        // "tls_full_handshake.min_full_share"
  std::uint64_t tls_min_handshakes = 10;  // "tls_full_handshake.min_handshakes"
  // event_loop_blocked: one block at least this long.
  double event_loop_min_block_ms = 10;  // "event_loop_blocked.min_block_ms"
};

// Sets one threshold by its dotted key; an unknown key or a value out of
// range (negative, a ratio above 1) is an error naming the key.
Status SetDetectorOption(DetectorConfig& config, std::string_view key, double value);

// Every key SetDetectorOption accepts, for --help and config validation.
std::vector<std::string> DetectorOptionKeys();

}  // namespace waitscope::findings
