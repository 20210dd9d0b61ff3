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
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "aggregate/wait_target.h"
#include "aggregate/wait_window.h"
#include "core/stack.h"
#include "loader/probe.h"
#include "procs/process_table.h"
#include "report/report.h"
#include "symbols/symbolizer.h"

namespace waitscope {

// The root frame of a stack deeper than the kernel's walk (WS_STACK_TRUNCATED):
// its outermost frames are not known.
inline constexpr const char* kTruncatedStackFrame = "[stack cut: deeper than the walk]";

struct CollectorStats {
  std::uint64_t events = 0;      // ring-buffer events handled
  std::uint64_t bad_events = 0;  // events with an unknown type or a short size
};

// One wait as the kernel sent it (WS_EV_WAIT), named and classified.
struct WaitEvent {
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
  std::uint64_t end_ns = 0;  // syscall exit, CLOCK_MONOTONIC
  std::uint64_t blocked_ns = 0;
  std::string syscall;
  std::string target;
  WaitClass wait_class = WaitClass::kOther;
  std::shared_ptr<const std::vector<Frame>> frames;  // null: no stack taken
};

class WaitCollector {
 public:
  using WaitEventHandler = std::function<void(const WaitEvent&)>;

  WaitCollector(const Probe& probe, ProcessTable& procs, Symbolizer& symbolizer)
      : probe_(probe), procs_(procs), symbolizer_(symbolizer) {}

  void OnEvent(std::span<const std::byte> data);
  // Receives each WS_EV_WAIT (sent only when ProbeOptions::wait_event_min_ns is set).
  void SetWaitEventHandler(WaitEventHandler handler) { wait_handler_ = std::move(handler); }
  // Receives each traced process's exit (pid, kernel timestamp).
  using ExitHandler = std::function<void(std::uint32_t pid, std::uint64_t ts_ns)>;
  void SetExitHandler(ExitHandler handler) { exit_handler_ = std::move(handler); }

  // Cumulative since the probe started. With `since_last_call`, only what
  // was added since the previous such call (see WaitWindow); rows with no
  // new count or time are left out.
  std::vector<WaitStack> Collect(bool since_last_call = false);

  // Long-running traces: the kernel's aggregation maps were emptied, so the
  // next Collect starts from zero; symbolized stacks of processes that are
  // gone are dropped too (they would only grow the cache).
  void OnKernelMapsCleared();

  const CollectorStats& stats() const { return stats_; }

 private:
  std::shared_ptr<const std::vector<Frame>> Symbolize(std::uint32_t tgid, std::uint64_t hash);

  const Probe& probe_;
  ProcessTable& procs_;
  Symbolizer& symbolizer_;
  NameTable names_;
  WaitWindow window_;  // Collect(since_last_call)
  WaitEventHandler wait_handler_;
  ExitHandler exit_handler_;
  // Symbolized stacks by (tgid, hash); shared so holders outlive an eviction.
  std::map<std::pair<std::uint32_t, std::uint64_t>, std::shared_ptr<const std::vector<Frame>>>
      stacks_;
  CollectorStats stats_;
};

}  // namespace waitscope
