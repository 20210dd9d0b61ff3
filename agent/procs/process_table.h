// ProcessTable remembers what waitscope knows of each traced process: name,
// executable and the latest /proc/PID/maps snapshot. It outlives the
// processes, so stacks of a process that exited mid-recording are still
// symbolized with the maps it had, and the report still names it.
//
// Not thread-safe; used from the recording's event loop.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "report/report.h"
#include "symbols/proc_maps.h"

namespace waitscope {

struct ProcessInfo {
  std::uint32_t pid = 0;
  std::uint32_t parent = 0;  // traced parent that created it, 0 if attached directly
  std::string comm;
  std::string exe;
  ProcessMaps maps;
  bool has_maps = false;
  bool exited = false;
};

class ProcessTable {
 public:
  // Adds pid (reading comm, exe and maps from /proc) or returns the known entry.
  ProcessInfo& Observe(std::uint32_t pid, std::uint32_t parent = 0);
  // The process replaced its image: names and mappings are new.
  void OnExec(std::uint32_t pid, const std::string& comm);
  void OnExit(std::uint32_t pid);

  // Maps to resolve the addresses of one stack of pid: the snapshot, re-read
  // from /proc first if it misses any of them and the process is still
  // alive. Every frame counts, not only the leaf: a snapshot taken right
  // after exec covers the executable but not the libraries the dynamic
  // loader maps next.
  const ProcessMaps* MapsFor(std::uint32_t pid, std::span<const std::uint64_t> addrs);

  const ProcessInfo* Find(std::uint32_t pid) const;
  std::string CommOf(std::uint32_t pid) const;

  // Every process seen, in pid order, for report.json `targets`.
  std::vector<Target> Targets() const;

  // Drops the processes that exited (long-running traces: their pids may be
  // reused, and the table must not grow with every process ever seen).
  // Returns how many were dropped.
  std::size_t ForgetExited();

 private:
  void Refresh(ProcessInfo& info);
  std::map<std::uint32_t, ProcessInfo> procs_;
};

// /proc/PID/comm without the newline; empty if unreadable.
std::string ReadComm(std::uint32_t pid);
// A thread's own name (pthread_setname_np); empty once it has exited.
std::string ReadThreadComm(std::uint32_t pid, std::uint32_t tid);
// /proc/PID/exe target; empty if unreadable.
std::string ReadExe(std::uint32_t pid);

}  // namespace waitscope
