// uprobe_multi links (Linux 6.6+): one BPF link for one program at several
// offsets of one file. waitscope uses them for the OpenSSL uprobes because
// of how each kind detaches: a classic uprobe (a perf event) waits for an
// RCU tasks-trace grace period under the kernel's event_mutex, so its ~11
// links took ~1 s to close, one after another, at every exit; uprobe_multi
// links do not take that mutex, and closed together they share one grace
// period (BENCHMARKS.md, "Exit time and the OpenSSL uprobes").
//
// Debian 12's libbpf (1.1) predates them, so the link is made with the
// bpf() syscall directly; the attribute layout is the kernel's stable uapi
// (include/uapi/linux/bpf.h, union bpf_attr, link_create.uprobe_multi).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/result.h"

namespace waitscope {

// BPF_TRACE_UPROBE_MULTI (enum bpf_attach_type, Linux 6.6): a program meant
// for these links is loaded with this expected attach type.
inline constexpr unsigned kAttachUprobeMulti = 48;

// Whether this kernel makes uprobe_multi links. Costs a program load and a
// failed link_create (against a path that does not exist), no uprobe.
bool KernelHasUprobeMulti();

// Attaches prog_fd at `offsets` of the file at `path`, in every process that
// maps it; `retprobe`: at their returns. Returns the link's descriptor (the
// caller closes it to detach).
Result<int> AttachUprobeMulti(int prog_fd, const std::string& path,
                              std::span<const std::uint64_t> offsets, bool retprobe);

}  // namespace waitscope
