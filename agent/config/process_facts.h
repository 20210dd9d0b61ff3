// ProcessFacts: what the agent's target rules look at in a process (name,
// executable, cgroup), read from /proc/PID/{comm,exe,cgroup}.
//
// Contract: reading never fails as a whole. A process can exit between any
// two reads, and some files need privileges, so a field that could not be
// read stays empty; a rule on that field then does not match.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace waitscope::config {

struct ProcessFacts {
  std::uint32_t pid = 0;
  std::string comm;    // /proc/PID/comm, at most 15 characters
  std::string exe;     // /proc/PID/exe target, without a " (deleted)" suffix
  std::string cgroup;  // cgroup v2 path ("/system.slice/nginx.service")
};

ProcessFacts ReadProcessFacts(std::uint32_t pid);

// The process's cgroup path from the text of /proc/PID/cgroup: the v2 line
// ("0::/path") when there is one; on a pure cgroup v1 host, the path in the
// name=systemd hierarchy (where systemd puts units), else the first line's.
std::string CgroupPathFromProcFile(std::string_view text);

}  // namespace waitscope::config
