#include "procs/process_table.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>

namespace waitscope {

std::string ReadComm(std::uint32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

std::string ReadThreadComm(std::uint32_t pid, std::uint32_t tid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

std::string ReadExe(std::uint32_t pid) {
  std::array<char, 4096> buf{};
  std::string link = "/proc/" + std::to_string(pid) + "/exe";
  ssize_t n = readlink(link.c_str(), buf.data(), buf.size() - 1);
  if (n <= 0) return {};
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

void ProcessTable::Refresh(ProcessInfo& info) {
  if (info.exited) return;
  Result<ProcessMaps> maps = ProcessMaps::Read(info.pid);
  if (maps.ok()) {
    info.maps = std::move(maps.value());
    info.has_maps = true;
  }
  if (std::string exe = ReadExe(info.pid); !exe.empty()) info.exe = exe;
  if (std::string comm = ReadComm(info.pid); !comm.empty()) info.comm = comm;
}

ProcessInfo& ProcessTable::Observe(std::uint32_t pid, std::uint32_t parent) {
  auto [it, inserted] = procs_.try_emplace(pid);
  ProcessInfo& info = it->second;
  if (inserted) {
    info.pid = pid;
    info.parent = parent;
    Refresh(info);
  }
  return info;
}

void ProcessTable::OnExec(std::uint32_t pid, const std::string& comm) {
  ProcessInfo& info = Observe(pid);
  info.exited = false;
  if (!comm.empty()) info.comm = comm;
  Refresh(info);
}

void ProcessTable::OnExit(std::uint32_t pid) {
  auto it = procs_.find(pid);
  if (it != procs_.end()) it->second.exited = true;
}

const ProcessMaps* ProcessTable::MapsFor(std::uint32_t pid, std::span<const std::uint64_t> addrs) {
  ProcessInfo& info = Observe(pid);
  const auto missing = [&](std::uint64_t addr) { return info.maps.Find(addr) == nullptr; };
  if (!info.has_maps || std::any_of(addrs.begin(), addrs.end(), missing)) Refresh(info);
  return info.has_maps ? &info.maps : nullptr;
}

const ProcessInfo* ProcessTable::Find(std::uint32_t pid) const {
  auto it = procs_.find(pid);
  return it == procs_.end() ? nullptr : &it->second;
}

std::string ProcessTable::CommOf(std::uint32_t pid) const {
  const ProcessInfo* info = Find(pid);
  return info ? info->comm : std::string();
}

std::vector<Target> ProcessTable::Targets() const {
  std::vector<Target> out;
  out.reserve(procs_.size());
  for (const auto& [pid, info] : procs_) out.push_back(Target{pid, info.comm, info.exe});
  return out;
}

std::size_t ProcessTable::ForgetExited() {
  return std::erase_if(procs_, [](const auto& entry) { return entry.second.exited; });
}

}  // namespace waitscope
