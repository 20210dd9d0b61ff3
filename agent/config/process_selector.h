// ProcessSelector: decides which processes `waitscope agent` traces, from the
// `targets` section of waitscope.yaml. A process is traced when it matches
// any include rule (or there are none), matches no exclude rule, and is not
// the agent itself. ScanProcesses applies it to every process running now;
// the agent applies Matches to each process that starts later (exec).
//
// Contract: immutable after construction, so safe to share across threads;
// a reload builds a new selector.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/agent_config.h"
#include "config/process_facts.h"

namespace waitscope::config {

class ProcessSelector {
 public:
  explicit ProcessSelector(TargetsConfig targets,
                           std::uint32_t self_pid = static_cast<std::uint32_t>(getpid()));

  bool Matches(const ProcessFacts& facts) const;
  bool SelectsAll() const { return targets_.include.empty() && targets_.exclude.empty(); }
  std::uint32_t self_pid() const { return self_pid_; }

 private:
  TargetsConfig targets_;
  std::uint32_t self_pid_;
};

// Every field of `rule` that is set matches `facts`.
bool RuleMatches(const TargetRule& rule, const ProcessFacts& facts);

// `path` is `prefix` or below it ("/system.slice" covers "/system.slice/a.service",
// not "/system.slicex").
bool CgroupUnder(std::string_view path, std::string_view prefix);

// Some component of `path` is `unit`: "/system.slice/nginx.service" and
// "/user.slice/user-1000.slice/user@1000.service/app.slice/nginx.service"
// both hold nginx.service (and so do its sub-cgroups).
bool CgroupHasUnit(std::string_view path, std::string_view unit);

// Pids (thread-group ids) of the processes in /proc that `selector` matches,
// ascending; kernel threads and zombies (empty cmdline) and self_pid are
// skipped. Processes that vanish during the walk are simply not returned.
std::vector<std::uint32_t> ScanProcesses(const ProcessSelector& selector, std::uint32_t self_pid);

}  // namespace waitscope::config
