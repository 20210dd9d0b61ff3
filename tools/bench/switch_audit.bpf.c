// SPDX-License-Identifier: GPL-2.0
/* switch_audit: counts the context switches into and out of one process's
 * threads that reach a sched_switch BPF program, to compare with the
 * scheduler's own count (tools/bench/switch_audit.cc). Investigation only:
 * docs/design.md, "A block whose end we did not see". */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;
__u64 switched_in = 0;
__u64 switched_out = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(audit_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
  if (prev->tgid == target_tgid)
    __sync_fetch_and_add(&switched_out, 1);
  if (next->tgid == target_tgid)
    __sync_fetch_and_add(&switched_in, 1);
  return 0;
}
