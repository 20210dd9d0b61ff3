// event_loop_blocked: a thread that runs an event loop blocks in something
// other than its own poll (a file read, fsync, DNS, a sleep, a blocking
// socket): every connection it serves waits meanwhile.
// Rule, per (pid, class, syscall, target), over blocks >=
// event_loop_blocked.min_block_ms (shorter ones and poll-class waits are never
// counted, see event_loop_stats.h): at least 2 such blocks, or one of at least
// 10x the threshold (one short block may be start-up work such as reading a
// config file).
// Endpoint: the one the loop answered first after most of the blocks (the
// handler that blocked resumes first); evidence lists them all.
// Cost: the blocked time. Severity (no single request to charge it to): critical when
// the longest block is >= 10x the threshold or the blocks add up to >= 10% of
// the recording, warning otherwise.
#include "core/units.h"
#include "findings/detectors.h"
#include "findings/finding_format.h"

namespace waitscope::findings {
namespace {

constexpr double kLongFactor = 10;
constexpr std::uint64_t kMinBlocks = 2;

}  // namespace

void DetectEventLoopBlocked(const DetectorInputs& in, std::vector<FindingRow>& out) {
  const double long_ns = in.config.event_loop_min_block_ms * 1e6 * kLongFactor;
  for (const auto& [key, b] : in.event_loops.blocks()) {
    const auto& [pid, wait_class, syscall, target] = key;
    const bool one_long = static_cast<double>(b.longest_ns) >= long_ns;
    if (b.count < kMinBlocks && !one_long) continue;
    const double recording_share = in.duration_s > 0 ? b.total_ns / (in.duration_s * 1e9) : 0;
    const Severity severity =
        one_long || recording_share >= kWarningShare ? Severity::kCritical : Severity::kWarning;
    const std::string where =
        target.empty() || target == "-" ? syscall : syscall + " on " + ShortText(target, 50);
    std::string endpoint;
    std::uint64_t endpoint_blocks = 0;
    nlohmann::json endpoints = nlohmann::json::object();
    for (const auto& [name, n] : b.endpoints) {
      endpoints[name.empty() ? "(none)" : name] = n;
      if (!name.empty() && n > endpoint_blocks) {
        endpoint = name;
        endpoint_blocks = n;
      }
    }
    const std::string serving = endpoint.empty() ? "" : " serving " + ShortText(endpoint, 40);
    const std::string summary =
        "event-loop thread " + ShortText(b.comm.empty() ? "?" : b.comm, 24) + " (pid " +
        std::to_string(pid) + ") blocked " + std::to_string(b.count) + " times in " + where +
        serving + " (longest " + FormatDuration(b.longest_ns) + ", " + FormatDuration(b.total_ns) +
        " in all) and served no other connection meanwhile: use non-blocking I/O or move it to a "
        "worker thread";
    nlohmann::json ev = {{"target", target},
                         {"syscall", syscall},
                         {"class", std::string(WaitClassName(wait_class))},
                         {"comm", b.comm},
                         {"tid", b.tid},
                         {"endpoints", endpoints},
                         {"longest_ms", Ms(static_cast<double>(b.longest_ns))},
                         {"count", b.count},
                         {"total_ms", Ms(static_cast<double>(b.total_ns))}};
    out.push_back(
        MakeFinding("event_loop_blocked", severity, pid, endpoint, summary, ev, b.total_ns));
  }
}

}  // namespace waitscope::findings
