#include "findings/findings_engine.h"

#include <algorithm>
#include <tuple>

#include "findings/detectors.h"

namespace waitscope::findings {

FindingsEngine::FindingsEngine(DetectorConfig config)
    : config_(config), requests_(config_), event_loops_(config_) {}

void FindingsEngine::AddRequest(const RequestRecord& r) {
  requests_.Add(r);
  pools_.Add(r);
}

void FindingsEngine::AddEventLoopBlock(const EventLoopBlock& b) {
  event_loops_.Add(b);
}

std::vector<FindingRow> FindingsEngine::Finish(const Report& report, double duration_s) const {
  const DetectorInputs in{.config = config_,
                          .requests = requests_,
                          .pools = pools_,
                          .event_loops = event_loops_,
                          .report = report,
                          .duration_s = duration_s};
  std::vector<FindingRow> out;
  DetectSyncIo(in, out);
  DetectNPlusOne(in, out);
  DetectPoolExhaustion(in, out);
  DetectConnectionChurn(in, out);
  DetectSlowQuery(in, out);
  DetectLowCacheHitRatio(in, out);
  DetectTlsFullHandshake(in, out);
  DetectEventLoopBlocked(in, out);
  std::sort(out.begin(), out.end(), [](const FindingRow& a, const FindingRow& b) {
    return std::tie(b.cost_ns, a.kind, a.pid, a.endpoint, a.summary) <
           std::tie(a.cost_ns, b.kind, b.pid, b.endpoint, b.summary);
  });
  return out;
}

std::map<std::pair<std::uint32_t, std::string>, RequestBreakdown> FindingsEngine::Breakdowns()
    const {
  std::map<std::pair<std::uint32_t, std::string>, RequestBreakdown> out;
  for (const EndpointStats& e : requests_.endpoints()) {
    const std::uint64_t attributed = e.requests - e.unattributed;
    if (attributed == 0) continue;
    const double n = static_cast<double>(attributed) * 1e3;  // ns -> mean µs
    auto mean = [&](BreakdownClass c) {
      return static_cast<double>(e.class_ns[static_cast<std::size_t>(c)]) / n;
    };
    out[{e.pid, e.endpoint}] = RequestBreakdown{.cpu = mean(BreakdownClass::kCpu),
                                                .db = mean(BreakdownClass::kDb),
                                                .net = mean(BreakdownClass::kNet),
                                                .disk = mean(BreakdownClass::kDisk),
                                                .lock = mean(BreakdownClass::kLock),
                                                .tls = mean(BreakdownClass::kTls),
                                                .other = mean(BreakdownClass::kOther)};
  }
  return out;
}

}  // namespace waitscope::findings
