// AgentHealth: the agent's own vital signs, which the agent loop fills and
// hands to MetricsAccumulator::SetHealth before each Snapshot. Counters here
// are totals since the agent started (not per-window deltas); the
// accumulator never lets a published counter go down, so a field the loop
// forgets to fill once does not show up as a counter reset.
//
// ReadSelfUsage fills the two fields the process can read about itself:
// CPU time (getrusage) and resident memory (/proc/self/statm).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/result.h"

namespace waitscope::metrics {

struct AgentHealth {
  std::uint64_t events = 0;          // events read from the ring buffers
  std::uint64_t events_dropped = 0;  // lost in the kernel: ring reservations failed, maps full
  double cpu_time_s = 0;             // user + system CPU time of the agent
  std::uint64_t memory_rss_bytes = 0;
  std::map<std::string, std::uint64_t> export_failures;  // exporter ("otlp", ...) -> failures
  std::uint64_t spool_size_bytes = 0;                    // data waiting to be exported
  std::uint64_t evictions = 0;  // entries evicted from the agent's bounded tables
};

// Sets health->cpu_time_s and health->memory_rss_bytes for this process.
Status ReadSelfUsage(AgentHealth* health);

}  // namespace waitscope::metrics
