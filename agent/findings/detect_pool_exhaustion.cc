// pool_exhaustion: a process's connections to one database peer sit at a
// fixed ceiling while requests queue for one.
// Rule, per (pid, peer):
//   - a pool: the distinct connections seen stay below PoolUsage::kMaxConnections
//     (more is churn), and successful requests using it >= min_requests;
//   - saturated: the most connections in use at once equals the number of
//     distinct connections (the ceiling), and that level holds for at least
//     pool_exhaustion.min_saturated_share of the time any is in use;
//   - waiting: p95 of (first statement on the peer - request start) >=
//     pool_exhaustion.min_wait_ms, and p95 of the lock time inside that wait
//     is at least half of the threshold: threads park on the pool's lock.
//     CPU work before the first query alone (parsing, auth) is not a pool.
// Cost: lock time before the first statement, summed. Severity: the shared
// share rule over the total time of the requests using the peer.
#include "core/units.h"
#include "findings/detectors.h"
#include "findings/finding_format.h"

namespace waitscope::findings {

void DetectPoolExhaustion(const DetectorInputs& in, std::vector<FindingRow>& out) {
  const double min_wait_ns = in.config.pool_min_wait_ms * 1e6;
  for (const auto& pool : in.pools.peers()) {
    const PeerPoolStats& p = *pool;
    if (p.too_many_connections || p.connections.empty() || p.requests < in.config.min_requests) {
      continue;
    }
    const std::size_t ceiling = p.connections.size();
    const ConcurrencySweep::Levels levels = p.in_use.Result();
    if (levels.busy_ns == 0 || levels.max_level < ceiling) continue;
    const std::uint64_t saturated_ns = levels.ns_at[std::min(ceiling, ConcurrencySweep::kMaxLevel)];
    const double saturated = Share(saturated_ns, levels.busy_ns);
    if (saturated < in.config.pool_min_saturated_share) continue;
    const auto wait_p50 = static_cast<double>(p.wait_before.Quantile(0.5));
    const auto wait_p95 = static_cast<double>(p.wait_before.Quantile(0.95));
    const auto lock_p95 = static_cast<double>(p.lock_before.Quantile(0.95));
    if (wait_p95 < min_wait_ns || lock_p95 < min_wait_ns / 2 || p.lock_before_ns == 0) continue;
    const double share = Share(p.lock_before_ns, p.request_ns);
    const std::string summary =
        "all " + std::to_string(ceiling) + " connections of pid " + std::to_string(p.pid) + " to " +
        ShortText(p.peer, 40) + " are in use " + PercentText(saturated) +
        " of the time and requests wait " + FormatDuration(static_cast<std::uint64_t>(wait_p95)) +
        " (p95) before their first query (pool exhausted): enlarge the pool, or hold a connection "
        "only while "
        "querying";
    nlohmann::json ev = {{"peer", p.peer},
                         {"protocol", p.protocol},
                         {"pool_size", ceiling},
                         {"saturated_share", Round(saturated, 3)},
                         {"wait_before_first_query_p50_ms", Ms(wait_p50)},
                         {"wait_before_first_query_p95_ms", Ms(wait_p95)},
                         {"lock_wait_before_first_query_p95_ms", Ms(lock_p95)},
                         {"requests", p.requests}};
    out.push_back(MakeFinding("pool_exhaustion", SeverityForShare(share), p.pid, "", summary, ev,
                              p.lock_before_ns));
  }
}

}  // namespace waitscope::findings
