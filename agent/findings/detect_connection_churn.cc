// connection_churn: a new TCP (or TLS) connection to the same peer on
// (nearly) every request instead of reusing one.
// Rule, per (pid, endpoint, peer) over successful requests: ok_requests >=
// min_requests and connects per request >= connection_churn.min_per_request.
// Cost: connect latency and protocol setup (startup, authentication: up to
// the first request on the new connection) plus full TLS handshakes. Severity: the
// shared share rule over the endpoint's time (connecting to a local database
// costs little and is info; a remote TLS service is not).
#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "core/units.h"
#include "findings/detectors.h"
#include "findings/finding_format.h"

namespace waitscope::findings {

void DetectConnectionChurn(const DetectorInputs& in, std::vector<FindingRow>& out) {
  for (const EndpointStats& e : in.requests.endpoints()) {
    if (e.ok_requests < in.config.min_requests || e.ok_total_ns == 0) continue;
    for (const ConnectStats& c : e.connects) {
      const double per_request = static_cast<double>(c.connects) / e.ok_requests;
      if (c.connects == 0 || per_request < in.config.churn_min_connects_per_request) continue;
      const std::uint64_t cost = c.connect_ns + c.tls_ns;
      const double share = Share(cost, e.ok_total_ns);
      const double connect_mean = static_cast<double>(c.connect_ns) / c.connects;
      std::string cost_text =
          FormatDuration(static_cast<std::uint64_t>(connect_mean)) + " to connect and set up";
      if (c.tls_handshakes > 0) {
        cost_text += " + " + FormatDuration(c.tls_ns / c.tls_handshakes) + " TLS handshake";
      }
      char rate[32];
      std::snprintf(rate, sizeof rate, "%.1f", per_request);
      const std::string summary = e.endpoint + " opens " + rate +
                                  " new connections per request to " + ShortText(c.peer, 40) +
                                  " (" + cost_text +
                                  " each): reuse connections with a pool or keep-alive";
      nlohmann::json ev = {{"peer", c.peer},
                           {"connects_per_request", Round(per_request, 2)},
                           {"connect_ms", Ms(connect_mean)},
                           {"tls_handshakes_per_request",
                            Round(static_cast<double>(c.tls_handshakes) / e.ok_requests, 2)},
                           {"share_of_request", Round(share, 3)},
                           {"requests", e.ok_requests}};
      out.push_back(MakeFinding("connection_churn", SeverityForShare(share), e.pid, e.endpoint,
                                summary, ev, cost));
    }
  }
}

}  // namespace waitscope::findings
