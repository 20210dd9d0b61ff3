#include "metrics/agent_health.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace waitscope::metrics {

Status ReadSelfUsage(AgentHealth* health) {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) {
    return Error{std::string("cannot read the agent's CPU time: ") + std::strerror(errno)};
  }
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  health->cpu_time_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);

  // statm's second field is the resident set in pages; it is cheaper and
  // steadier to parse than the "VmRSS:" line of /proc/self/status.
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size_pages = 0, resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) {
    return Error{"cannot read the agent's memory use from /proc/self/statm"};
  }
  const long page = sysconf(_SC_PAGESIZE);
  health->memory_rss_bytes = resident_pages * static_cast<std::uint64_t>(page > 0 ? page : 4096);
  return Status::Ok();
}

}  // namespace waitscope::metrics
