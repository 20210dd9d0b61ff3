// Checks, before touching BPF, that this process may load tracing programs,
// so a person gets "needs CAP_BPF" instead of a libbpf EPERM dump.
#pragma once

#include "core/result.h"

namespace waitscope {

// Ok when effective capabilities include CAP_BPF and CAP_PERFMON (or
// CAP_SYS_ADMIN, which implies both on kernels before 5.8). The error names
// exactly what is missing.
Status CheckTracingPrivileges();

// Ok when the kernel exposes BTF (/sys/kernel/btf/vmlinux), which CO-RE and
// tp_btf programs need.
Status CheckKernelBtf();

}  // namespace waitscope
