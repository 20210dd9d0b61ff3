// n_plus_one: one request runs the same normalized statement (to the same
// peer) at least n_plus_one.min_repeats times: a loop issuing one query per
// item instead of one query for all of them.
// Rule, per (pid, endpoint, statement, peer) over successful requests:
//   ok_requests >= min_requests; at least 2 requests, and at least 10% of the
//   endpoint's requests, ran it >= min_repeats times (a lone request with a
//   long list is not the endpoint's pattern).
// Evidence: repeats_per_request is the median over the requests that repeated
// it; time_ms the mean time per such request spent in it.
// Cost: time spent in the statement within those requests. Severity: the
// shared share rule over the endpoint's time.
#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "core/units.h"
#include "findings/detectors.h"
#include "findings/finding_format.h"

namespace waitscope::findings {
namespace {

constexpr std::uint64_t kMinRepeatedRequests = 2;
constexpr double kMinRepeatedShare = 0.1;

}  // namespace

void DetectNPlusOne(const DetectorInputs& in, std::vector<FindingRow>& out) {
  const auto min_repeats = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(in.config.n_plus_one_min_repeats, UINT32_MAX));
  for (const EndpointStats& e : in.requests.endpoints()) {
    if (e.ok_requests < in.config.min_requests || e.ok_total_ns == 0) continue;
    for (const auto& [text, peers] : e.statements) {
      for (const StatementStats& s : peers) {
        if (s.repeated_requests < kMinRepeatedRequests ||
            Share(s.repeated_requests, e.ok_requests) < kMinRepeatedShare) {
          continue;
        }
        const std::uint32_t repeats = s.MedianRunsAtLeast(min_repeats);
        const double per_request = static_cast<double>(s.repeated_ns) / s.repeated_requests;
        const double share = Share(s.repeated_ns, e.ok_total_ns);
        const std::string summary =
            e.endpoint + " runs \"" + ShortText(text) + "\" " + std::to_string(repeats) +
            " times per request on " + ShortText(s.peer, 40) +
            " (N+1 queries: " + FormatDuration(static_cast<std::uint64_t>(per_request)) +
            " of its " + FormatDuration(e.ok_latency.Quantile(0.5)) + " p50, in " +
            PercentText(Share(s.repeated_requests, e.ok_requests)) +
            " of requests): fetch the rows in one query (JOIN, WHERE ... IN, or a batch command)";
        nlohmann::json ev = {{"statement", text},
                             {"protocol", s.protocol},
                             {"peer", s.peer},
                             {"repeats_per_request", repeats},
                             {"requests", s.repeated_requests},
                             {"endpoint_requests", e.ok_requests},
                             {"time_ms", Ms(per_request)},
                             {"share_of_request", Round(share, 3)}};
        out.push_back(MakeFinding("n_plus_one", SeverityForShare(share), e.pid, e.endpoint, summary,
                                  ev, s.repeated_ns));
      }
    }
  }
}

}  // namespace waitscope::findings
