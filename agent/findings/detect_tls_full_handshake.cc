// tls_full_handshake: new TLS connections paying a full (not resumed)
// handshake, from Report::tls.
// Rule, per (pid, role, peer), failed handshakes ("unknown" version) left out:
// full handshakes >= tls_full_handshake.min_handshakes and full / all >=
// tls_full_handshake.min_full_share.
// Cost: the full handshakes' total time.
// Severity (no request time to compare with): warning at one or more full
// handshakes per second, info below; one level higher when most are TLS 1.2
// (two round trips instead of one).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string_view>
#include <tuple>

#include "core/peer_address.h"
#include "core/units.h"
#include "findings/detectors.h"
#include "findings/finding_format.h"

namespace waitscope::findings {
namespace {

struct Group {
  std::uint64_t all = 0, full = 0;
  double full_ns = 0;
  std::map<std::string, std::uint64_t> full_by_version;
};

}  // namespace

void DetectTlsFullHandshake(const DetectorInputs& in, std::vector<FindingRow>& out) {
  std::map<std::tuple<std::uint32_t, bool, std::string>, Group> groups;
  for (const TlsRow& t : in.report.tls) {
    if (t.version == "unknown" || t.version.empty()) continue;
    const std::uint64_t ok = t.count > t.failures ? t.count - t.failures : 0;
    Group& g = groups[{t.pid, t.server, t.peer}];
    g.all += ok;
    if (t.resumed) continue;
    g.full += ok;
    g.full_ns += t.handshake_us.mean * 1e3 * static_cast<double>(ok);
    g.full_by_version[t.version] += ok;
  }
  for (const auto& [key, g] : groups) {
    const auto& [pid, server, peer] = key;
    if (g.full == 0 || g.full < in.config.tls_min_handshakes) continue;
    const double full_share = Share(g.full, g.all);
    if (full_share < in.config.tls_min_full_share) continue;
    std::string version;
    std::uint64_t most = 0;
    for (const auto& [v, n] : g.full_by_version) {
      if (n > most) most = n, version = v;
    }
    const double per_s = in.duration_s > 0 ? static_cast<double>(g.full) / in.duration_s : 0;
    const double mean_ns = g.full_ns / static_cast<double>(g.full);
    const bool tls12 = version == "TLSv1.2";
    Severity severity = per_s >= 1 ? Severity::kWarning : Severity::kInfo;
    if (tls12) severity = severity == Severity::kInfo ? Severity::kWarning : Severity::kCritical;
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.1f", per_s);
    const std::string role = server ? "accepts" : "makes";
    const std::string with = server ? "from clients at " : "with ";
    const std::string_view host = server ? AnyPortHost(peer) : std::string_view();
    const std::string_view shown = host.empty() ? std::string_view(peer) : host;
    const std::string fix =
        server ? "enable session tickets or a session cache so clients can resume"
               : "keep connections alive and reuse them, and enable session resumption";
    const std::string summary = "pid " + std::to_string(pid) + " " + role + " " + rate + " full " +
                                version + " handshakes per second " + with + ShortText(shown, 40) +
                                " (" + FormatDuration(static_cast<std::uint64_t>(mean_ns)) +
                                " each, " + PercentText(full_share) + " of handshakes): " + fix +
                                (tls12 ? ", and prefer TLS 1.3" : "");
    nlohmann::json ev = {{"peer", peer},
                         {"role", server ? "server" : "client"},
                         {"version", version},
                         {"handshakes", g.full},
                         {"handshakes_per_s", Round(per_s, 2)},
                         {"mean_ms", Ms(mean_ns)},
                         {"full_share", Round(full_share, 3)}};
    out.push_back(MakeFinding("tls_full_handshake", severity, pid, "", summary, ev,
                              static_cast<std::uint64_t>(g.full_ns)));
  }
}

}  // namespace waitscope::findings
