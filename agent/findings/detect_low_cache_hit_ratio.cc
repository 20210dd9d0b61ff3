// low_cache_hit_ratio: cache reads that mostly miss, from Report::cache.
// Rule, per CacheRow: reads >= low_cache_hit_ratio.min_reads and
// hits / reads < low_cache_hit_ratio.min_ratio.
// Cost: misses times the mean latency of the process's commands to that peer
// (the wasted round trips; the fallback work a miss causes is not visible here).
// Severity (no request time to compare with): warning when the ratio is below
// half the threshold (most reads miss), info otherwise.
#include "core/units.h"
#include "findings/detectors.h"
#include "findings/finding_format.h"

namespace waitscope::findings {

void DetectLowCacheHitRatio(const DetectorInputs& in, std::vector<FindingRow>& out) {
  for (const CacheRow& c : in.report.cache) {
    if (c.reads == 0 || c.reads < in.config.cache_min_reads) continue;
    const double ratio = Share(c.hits, c.reads);
    if (ratio >= in.config.cache_min_hit_ratio) continue;
    std::uint64_t ns = 0, count = 0;
    for (const QueryRow& q : in.report.queries) {
      if (q.pid == c.pid && q.peer == c.peer) {
        ns += q.total_ns;
        count += q.count;
      }
    }
    const std::uint64_t misses = c.misses > 0 ? c.misses : c.reads - c.hits;
    const std::uint64_t cost = count == 0 ? 0 : misses * (ns / count);
    const std::string summary =
        "only " + PercentText(ratio) + " of " + std::to_string(c.reads) + " cache reads from " +
        ShortText(c.peer, 40) + " hit (pid " + std::to_string(c.pid) +
        "): check key naming, expiry (TTL) and eviction (maxmemory), or whether the data is "
        "ever written back";
    nlohmann::json ev = {{"peer", c.peer},
                         {"protocol", c.protocol},
                         {"reads", c.reads},
                         {"hits", c.hits},
                         {"misses", misses},
                         {"hit_ratio", Round(ratio, 3)},
                         {"miss_cost_ms", Ms(static_cast<double>(cost))}};
    const Severity severity =
        ratio < in.config.cache_min_hit_ratio / 2 ? Severity::kWarning : Severity::kInfo;
    out.push_back(MakeFinding("low_cache_hit_ratio", severity, c.pid, "", summary, ev, cost));
  }
}

}  // namespace waitscope::findings
