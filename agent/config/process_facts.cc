#include "config/process_facts.h"

#include "procs/process_table.h"
#include "symbols/read_file.h"

namespace waitscope::config {

std::string CgroupPathFromProcFile(std::string_view text) {
  std::string_view systemd;
  std::string_view first;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    // hierarchy-ID:controller-list:path; the path itself may contain ':'.
    const std::size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    const std::size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view id = line.substr(0, c1);
    std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string_view path = line.substr(c2 + 1);
    if (id == "0" && controllers.empty()) return std::string(path);
    if (controllers == "name=systemd" && systemd.empty()) systemd = path;
    if (first.empty()) first = path;
  }
  return std::string(systemd.empty() ? first : systemd);
}

ProcessFacts ReadProcessFacts(std::uint32_t pid) {
  ProcessFacts facts;
  facts.pid = pid;
  facts.comm = ReadComm(pid);
  facts.exe = ReadExe(pid);
  constexpr std::string_view kDeleted = " (deleted)";
  if (facts.exe.size() > kDeleted.size() && facts.exe.ends_with(kDeleted)) {
    facts.exe.resize(facts.exe.size() - kDeleted.size());
  }
  Result<std::string> cgroup = ReadWholeFile("/proc/" + std::to_string(pid) + "/cgroup");
  if (cgroup.ok()) facts.cgroup = CgroupPathFromProcFile(*cgroup);
  return facts;
}

}  // namespace waitscope::config
