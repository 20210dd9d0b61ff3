// SPDX-License-Identifier: GPL-2.0
/* uprobe_floor: the cheapest possible uprobe and uretprobe programs, so that
 * tools/bench/uprobe_floor.cc measures what the kernel's uprobe machinery
 * itself costs per probed call (trap, single-step or emulation, return
 * trampoline), not what a program body does. Benchmark only.
 *
 * Each program counts its hits in `counts` (0 = entry, 1 = return) so the
 * benchmark can check that every call was seen. Hits from other processes
 * (the probes are attached with pid -1, like waitscope's) are not counted.
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void count(__u32 slot)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return;
	__u64 *n = bpf_map_lookup_elem(&counts, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("uprobe")
int floor_entry(struct pt_regs *ctx)
{
	count(0);
	return 0;
}

SEC("uretprobe")
int floor_return(struct pt_regs *ctx)
{
	count(1);
	return 0;
}
