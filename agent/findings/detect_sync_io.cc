// sync_io_in_request_path: the request thread blocks in a non-database
// outbound call (SMTP, an HTTP API, a unix-socket daemon) or in a disk
// write/fsync for at least sync_io.min_share of the endpoint's request time.
// Rule, per (pid, endpoint, peer or path) over successful requests:
//   ok_requests >= min_requests, and blocked time / endpoint time >= min_share.
// Cost: the blocked time. Severity: the shared share rule (finding_format.h).
#include "core/units.h"
#include "findings/detectors.h"
#include "findings/finding_format.h"

namespace waitscope::findings {

void DetectSyncIo(const DetectorInputs& in, std::vector<FindingRow>& out) {
  for (const EndpointStats& e : in.requests.endpoints()) {
    if (e.ok_requests < in.config.min_requests || e.ok_total_ns == 0) continue;
    for (const SyncIoStats& io : e.sync_io) {
      const double share = Share(io.total_ns, e.ok_total_ns);
      if (share < in.config.sync_io_min_share || io.total_ns == 0) continue;
      const double per_request = static_cast<double>(io.total_ns) / e.ok_requests;
      const double calls = static_cast<double>(io.calls) / e.ok_requests;
      const std::string syscall = io.TopSyscall();
      const std::string what = io.disk ? "in " + syscall + " on " + ShortText(io.target)
                                       : "in a synchronous call to " + ShortText(io.target);
      const std::string fix = io.disk ? "batch the writes or hand them to a background writer"
                                      : "move it to a background queue or make it asynchronous";
      const std::string summary =
          e.endpoint + " spends " + FormatDuration(static_cast<std::uint64_t>(per_request)) +
          " of its " + FormatDuration(e.ok_latency.Quantile(0.5)) + " p50 blocked " + what +
          " on the request thread (" + PercentText(share) + " of its time): " + fix;
      nlohmann::json ev = {
          {io.disk ? "path" : "peer", io.target}, {"syscall", syscall},
          {"calls_per_request", Round(calls, 2)}, {"share_of_request", Round(share, 3)},
          {"time_ms", Ms(per_request)},           {"requests", e.ok_requests},
          {"requests_affected", io.requests}};
      out.push_back(MakeFinding("sync_io_in_request_path", SeverityForShare(share), e.pid,
                                e.endpoint, summary, ev, io.total_ns));
    }
  }
}

}  // namespace waitscope::findings
