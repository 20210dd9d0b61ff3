// SPDX-License-Identifier: GPL-2.0
/* hook_floor: minimal tp_btf hooks on sys_enter/sys_exit, to split waitscope's
 * per-syscall cost into "a BPF program is attached at all" and "what the
 * program does". Benchmark only (tools/bench/hook_floor.cc loads it).
 *
 *   mode 0  empty programs (the dispatch floor: syscall slow path + tracepoint
 *           + BPF program call)
 *   mode 1  pid_tgid + bitmap-style filter that never matches (waitscope's
 *           untraced path)
 *   mode 2  for target_tgid: ktime + hash-map update on enter, lookup +
 *           delete on exit (waitscope's per-syscall `inflight` pattern)
 *   mode 3  for target_tgid: ktime + lookup of a per-thread entry updated in
 *           place (inserted once, never deleted)
 *   mode 4  empty sys_exit program only (hook_floor.cc does not attach
 *           sys_enter): what one dispatch fewer saves
 *   mode 5  an empty sched_switch program only (no syscall program): the
 *           floor of the "sched" flavour, which hooks no syscall
 *   mode 6  an empty program on a per-task software context-switch perf
 *           event of TGID's threads (hook_floor.cc opens it): what every
 *           other task's context switch pays when only the traced tasks
 *           carry a hook
 *   mode 7  empty sock_send_length and sock_recv_length programs only: the
 *           floor the "sched" flavour's wire hooks put on every socket read
 *           and write on the machine, traced or not
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 mode = 0;
const volatile __u32 target_tgid = 0;
__u64 bitmap[65536] SEC(".bss");

struct entry {
  __u64 enter_ns;
  __u64 switch_out_ns;
  __u64 offcpu_ns;
  __u32 nr;
  __s32 fd;
  __u8 pad[48];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct entry);
} inflight SEC(".maps");

static __always_inline bool traced(__u32 tgid)
{
  if (mode == 1)
    return (bitmap[(tgid >> 6) & 65535] >> (tgid & 63)) & 1;
  return tgid == target_tgid;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_enter, struct pt_regs *regs, long id)
{
  if (mode == 0)
    return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!traced(pid_tgid >> 32))
    return 0;
  __u32 tid = (__u32)pid_tgid;
  if (mode == 2) {
    struct entry e = {};
    e.enter_ns = bpf_ktime_get_ns();
    e.nr = id;
    e.fd = -1;
    bpf_map_update_elem(&inflight, &tid, &e, BPF_ANY);
    return 0;
  }
  struct entry *e = bpf_map_lookup_elem(&inflight, &tid);
  if (!e) {
    struct entry z = {};
    bpf_map_update_elem(&inflight, &tid, &z, BPF_NOEXIST);
    e = bpf_map_lookup_elem(&inflight, &tid);
    if (!e)
      return 0;
  }
  e->enter_ns = bpf_ktime_get_ns();
  e->nr = id;
  e->fd = -1;
  e->offcpu_ns = 0;
  return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_switch)
{
  return 0;
}

SEC("perf_event")
int floor_task_switch(struct bpf_perf_event_data *ctx)
{
  return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_sock_send)
{
  return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_sock_recv)
{
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_exit, struct pt_regs *regs, long ret)
{
  if (mode == 0 || mode == 4)
    return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!traced(pid_tgid >> 32))
    return 0;
  __u32 tid = (__u32)pid_tgid;
  struct entry *e = bpf_map_lookup_elem(&inflight, &tid);
  if (!e)
    return 0;
  if (e->offcpu_ns == 0) {
    if (mode == 2)
      bpf_map_delete_elem(&inflight, &tid);
    return 0;
  }
  return 0;
}
