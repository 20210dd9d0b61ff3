// Checks, before touching BPF, that this process may load tracing programs,
// so a person gets "needs CAP_BPF" instead of a libbpf EPERM dump.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace waitscope {

// Ok when effective capabilities include CAP_BPF and CAP_PERFMON (or
// CAP_SYS_ADMIN, which implies both on kernels before 5.8). The error names
// exactly what is missing.
Status CheckTracingPrivileges();

struct MissingCapability {
  std::string name;         // "CAP_SYS_PTRACE"
  std::string consequence;  // what goes missing without it, one clause
};

// Capabilities that are not needed to trace but without which parts of the
// picture go missing for other users' processes: CAP_SYS_PTRACE (their
// /proc/PID/exe, maps and root, so no symbols and no exe-based selection) and
// CAP_DAC_READ_SEARCH (their binaries in unreadable directories). Empty when
// all are there.
Result<std::vector<MissingCapability>> MissingVisibilityCapabilities();

// Ok when the kernel exposes BTF (/sys/kernel/btf/vmlinux), which CO-RE and
// tp_btf programs need.
Status CheckKernelBtf();

}  // namespace waitscope
