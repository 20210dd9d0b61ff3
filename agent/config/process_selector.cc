#include "config/process_selector.h"

#include <dirent.h>
#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <string>

#include "symbols/read_file.h"

namespace waitscope::config {
namespace {

bool Glob(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

bool AnyMatches(const std::vector<TargetRule>& rules, const ProcessFacts& facts) {
  return std::any_of(rules.begin(), rules.end(),
                     [&](const TargetRule& rule) { return RuleMatches(rule, facts); });
}

// Kernel threads have no command line, and neither have zombies; neither can
// be traced usefully.
bool HasCommandLine(std::uint32_t pid) {
  Result<std::string> cmdline = ReadWholeFile("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline.ok() && !cmdline->empty();
}

}  // namespace

bool CgroupUnder(std::string_view path, std::string_view prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix == "/") return !path.empty() && path.front() == '/';
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

bool CgroupHasUnit(std::string_view path, std::string_view unit) {
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    if (path.substr(0, slash) == unit) return true;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return false;
}

bool RuleMatches(const TargetRule& rule, const ProcessFacts& facts) {
  if (!rule.comm.empty() && !Glob(rule.comm, facts.comm)) return false;
  if (!rule.exe.empty() && !Glob(rule.exe, facts.exe)) return false;
  if (!rule.cgroup.empty() && !CgroupUnder(facts.cgroup, rule.cgroup)) return false;
  if (!rule.unit.empty() && !CgroupHasUnit(facts.cgroup, rule.unit)) return false;
  return true;
}

ProcessSelector::ProcessSelector(TargetsConfig targets, std::uint32_t self_pid)
    : targets_(std::move(targets)), self_pid_(self_pid) {}

bool ProcessSelector::Matches(const ProcessFacts& facts) const {
  if (facts.pid == self_pid_) return false;
  if (!targets_.include.empty() && !AnyMatches(targets_.include, facts)) return false;
  return !AnyMatches(targets_.exclude, facts);
}

std::vector<std::uint32_t> ScanProcesses(const ProcessSelector& selector, std::uint32_t self_pid) {
  std::vector<std::uint32_t> pids;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc"), closedir);
  if (!dir) return pids;
  while (const dirent* entry = readdir(dir.get())) {
    std::string_view name = entry->d_name;
    std::uint32_t pid = 0;
    auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || ptr != name.data() + name.size() || pid == 0) continue;
    if (pid == self_pid || pid == selector.self_pid()) continue;
    if (!HasCommandLine(pid)) continue;
    if (selector.Matches(ReadProcessFacts(pid))) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

}  // namespace waitscope::config
