// WaitCollector turns what the waits probe produces into report data.
//
// While recording it consumes ring-buffer events: new stacks are symbolized
// at once (while the process and its mappings still exist), names of files
// and sockets are remembered, and process fork/exec/exit keep the process
// table current. At the end, Collect() reads the kernel's aggregation map and
// returns one WaitStack per (process, syscall, target, stack).
//
// Not thread-safe; used from the recording's event loop.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include "aggregate/wait_target.h"
#include "core/stack.h"
#include "loader/probe.h"
#include "procs/process_table.h"
#include "report/report.h"
#include "symbols/symbolizer.h"

namespace waitscope {

struct CollectorStats {
  std::uint64_t events = 0;      // ring-buffer events handled
  std::uint64_t bad_events = 0;  // events with an unknown type or a short size
  std::uint64_t processes_started = 0;
  std::uint64_t processes_exited = 0;
};

class WaitCollector {
 public:
  WaitCollector(const Probe& probe, ProcessTable& procs, Symbolizer& symbolizer)
      : probe_(probe), procs_(procs), symbolizer_(symbolizer) {}

  void OnEvent(std::span<const std::byte> data);

  std::vector<WaitStack> Collect();

  const CollectorStats& stats() const { return stats_; }

 private:
  const std::vector<Frame>* Symbolize(std::uint32_t tgid, std::uint64_t hash);

  const Probe& probe_;
  ProcessTable& procs_;
  Symbolizer& symbolizer_;
  NameTable names_;
  std::map<std::pair<std::uint32_t, std::uint64_t>, std::vector<Frame>> stacks_;
  CollectorStats stats_;
};

}  // namespace waitscope
