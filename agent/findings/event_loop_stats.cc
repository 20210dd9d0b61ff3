#include "findings/event_loop_stats.h"

#include <algorithm>
#include <cmath>

namespace waitscope::findings {

EventLoopStats::EventLoopStats(const DetectorConfig& config)
    : min_block_ns_(
          static_cast<std::uint64_t>(std::llround(config.event_loop_min_block_ms * 1e6))) {}

void EventLoopStats::Add(const EventLoopBlock& b) {
  if (b.wait_class == WaitClass::kPoll || b.wait_class == WaitClass::kLock ||
      b.blocked_ns < min_block_ns_) {
    return;
  }
  Key key{b.pid, b.wait_class, b.syscall, b.target};
  auto it = blocks_.find(key);
  if (it == blocks_.end()) {
    if (blocks_.size() >= kMaxKeys) {
      ++dropped_;
      return;
    }
    it = blocks_.emplace(std::move(key), EventLoopBlockStats{.comm = b.comm, .tid = b.tid}).first;
  }
  EventLoopBlockStats& st = it->second;
  ++st.count;
  st.total_ns += b.blocked_ns;
  st.longest_ns = std::max(st.longest_ns, b.blocked_ns);
  if (st.comm.empty()) st.comm = b.comm;
  const bool known = st.endpoints.contains(b.endpoint) || st.endpoints.size() < kMaxEndpoints;
  ++st.endpoints[known ? b.endpoint : std::string()];
}

}  // namespace waitscope::findings
