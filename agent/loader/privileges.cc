#include "loader/privileges.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace waitscope {
namespace {

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

bool HasEffective(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

}  // namespace

Status CheckTracingPrivileges() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) {
    return Error{"cannot read this process's capabilities (capget failed)"};
  }
  if (HasEffective(data, CAP_SYS_ADMIN)) return Status::Ok();
  std::vector<std::string> missing;
  if (!HasEffective(data, CAP_BPF)) missing.emplace_back("CAP_BPF");
  if (!HasEffective(data, CAP_PERFMON)) missing.emplace_back("CAP_PERFMON");
  if (missing.empty()) return Status::Ok();
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : " and ") + m;
  return Error{
      "waitscope needs root, or the capabilities CAP_BPF and CAP_PERFMON; this process "
      "lacks " +
      list + " (try: sudo waitscope ...)"};
}

Result<std::vector<MissingCapability>> MissingVisibilityCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) {
    return Error{"cannot read this process's capabilities (capget failed)"};
  }
  std::vector<MissingCapability> missing;
  if (!HasEffective(data, CAP_SYS_PTRACE)) {
    missing.push_back({"CAP_SYS_PTRACE",
                       "other users' processes would be traced without their executable, "
                       "memory maps or symbols, and exe rules could not match them"});
  }
  if (!HasEffective(data, CAP_DAC_READ_SEARCH)) {
    missing.push_back({"CAP_DAC_READ_SEARCH",
                       "binaries in directories this user cannot read would not be symbolized"});
  }
  return missing;
}

Status CheckKernelBtf() {
  if (access("/sys/kernel/btf/vmlinux", R_OK) == 0) return Status::Ok();
  return Error{
      "this kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing); waitscope needs "
      "a kernel built with CONFIG_DEBUG_INFO_BTF=y"};
}

}  // namespace waitscope
