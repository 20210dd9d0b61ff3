// SPDX-License-Identifier: GPL-2.0
/* sched_hooks: a stand-in for waitscope's hooks WITHOUT any syscall
 * tracepoint, to measure what that design would cost before building it.
 * Benchmark only (tools/bench/sched_hooks.cc loads it; BENCHMARKS.md,
 * "No syscall tracepoints: a measured stand-in").
 *
 * Attaching a program to sys_exit sends every syscall of every task on the
 * machine through the slow path and a dispatch (+73 ns here, hook_floor.py).
 * This stand-in attaches none:
 *
 *   sched_switch        a thread of target_tgid leaves the CPU blocked in a
 *                       syscall: number and fd from its saved user registers,
 *                       the struct file behind the fd (cached per thread, as
 *                       waitscope does). It comes back: the interval goes
 *                       straight into a `waits` hash (count once per syscall,
 *                       total, max), since there is no sys_exit to do it.
 *                       Whether a block starts a new syscall or continues the
 *                       last one: the thread returned to user space in
 *                       between iff its TIF_NEED_FPU_LOAD bit is clear (x86
 *                       sets it at every switch-out, clears it only on the
 *                       way back to user space). fpu_bit is that bit.
 *   sock_send_length /  a socket send/recv of target_tgid returned: fd and
 *   sock_recv_length    buffer from the registers of the syscall it runs
 *                       in, connection by (tgid, fd) checked against the
 *                       struct sock the tracepoint names (fd reuse), and a
 *                       bounded copy into a ring buffer, as waitscope's
 *                       sockets family does at sys_exit.
 *
 * What it leaves out (and a real design must solve): user stacks (no hook
 * runs in the thread after a block ends), connect/accept/close events, the
 * mmsg forms, and every syscall number but x86-64's.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "../../bpf/core_fixes.bpf.h"
#include "waitscope/bpf/sockets.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;
const volatile __u32 fpu_bit = 19; /* TIF_NEED_FPU_LOAD: 14 before the generic TIF bits */
const volatile __u32 capture_bytes = 4096;

enum {
  C_BLOCKS,
  C_SYSCALLS,   /* blocks that started a new syscall */
  C_RETURNED,   /* switch-outs that found the thread back from user space */
  C_BIT14_SET,  /* blocks with bit 14 / 19 of thread_info.flags set (calibration) */
  C_BIT19_SET,
  C_DATA,
  C_BYTES,
  C_DROPS,
  C_OPENS,
  C_NO_BUFFER, /* socket I/O from a syscall whose buffer we do not decode */
  C_MAX,
};

struct tstate {
  __u64 switch_out_ns;
  __u64 offcpu_ns;
  __u64 file;
  __u32 nr;
  __s32 fd;
  __u8 active;
  __u8 counted;
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct tstate);
} tstates SEC(".maps");

/* The same size as waitscope's ws_wait_key (56 bytes). */
struct wait_key {
  __u32 tgid;
  __u32 nr;
  __u64 file;
  __u64 stack;
  __u8 pad[32];
};

struct wait_val {
  __u64 count;
  __u64 total_ns;
  __u64 max_ns;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct wait_key);
  __type(value, struct wait_val);
} waits SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, C_MAX);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

static __always_inline void cnt(__u32 i, __u64 n)
{
  __u64 *c = bpf_map_lookup_elem(&counters, &i);
  if (c)
    *c += n;
}

static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
  struct fdtable *fdt = task->files->fdt;
  if (fd < 0 || (unsigned int)fd >= fdt->max_fds)
    return 0;
  struct file **fds = fdt->fd;
  struct file *file = 0;
  bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
  return file;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sh_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
             unsigned int prev_state)
{
  __u64 now = 0;
  if (prev->tgid == target_tgid) {
    struct tstate *s = bpf_task_storage_get(&tstates, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (s) {
      unsigned long flags = prev->thread_info.flags;
      if (!(flags & (1UL << (fpu_bit & 63)))) {
        s->active = 0; /* back from user space since the last switch-out */
        cnt(C_RETURNED, 1);
      }
      struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);
      if (prev_state != 0 && ws_in_syscall(regs)) {
        __u32 nr = WS_SYSCALL_NR(true, regs);
        int fd = (int)PT_REGS_PARM1_SYSCALL(regs);
        if (!s->active || s->nr != nr || s->fd != fd) {
          s->active = 1;
          s->counted = 0;
          s->offcpu_ns = 0;
          s->nr = nr;
          s->fd = fd;
          struct file *f = fd_file(prev, fd);
          if ((__u64)(unsigned long)f != s->file) {
            s->file = (__u64)(unsigned long)f;
            if (f) /* what waitscope reads to classify a new file */
              s->file ^= BPF_CORE_READ(f, f_inode, i_ino) ^ BPF_CORE_READ(f, f_inode, i_generation);
          }
          cnt(C_SYSCALLS, 1);
        }
        cnt(C_BLOCKS, 1);
        cnt(C_BIT14_SET, (flags >> 14) & 1);
        cnt(C_BIT19_SET, (flags >> 19) & 1);
        now = bpf_ktime_get_ns();
        s->switch_out_ns = now;
      }
    }
  }
  if (next->tgid == target_tgid) {
    struct tstate *s = bpf_task_storage_get(&tstates, next, 0, 0);
    if (s && s->switch_out_ns) {
      if (!now)
        now = bpf_ktime_get_ns();
      __u64 delta = now - s->switch_out_ns;
      s->switch_out_ns = 0;
      s->offcpu_ns += delta;
      struct wait_key key = {.tgid = target_tgid, .nr = s->nr, .file = s->file};
      struct wait_val *v = bpf_map_lookup_elem(&waits, &key);
      if (!v) {
        struct wait_val zero = {};
        bpf_map_update_elem(&waits, &key, &zero, BPF_NOEXIST);
        v = bpf_map_lookup_elem(&waits, &key);
      }
      if (v) {
        if (!s->counted) {
          s->counted = 1;
          __sync_fetch_and_add(&v->count, 1);
        }
        __sync_fetch_and_add(&v->total_ns, delta);
        if (s->offcpu_ns > v->max_ns)
          v->max_ns = s->offcpu_ns;
      }
    }
  }
  return 0;
}

/* ---- socket payload ------------------------------------------------------ */

struct conn_key {
  __u32 tgid;
  __s32 fd;
};

struct conn {
  __u64 sk;
  __u64 sent;
  __u64 received;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct conn_key);
  __type(value, struct conn);
} conns SEC(".maps");

struct scratch {
  struct ws_sock_data_event ev;
  char slack[2 * WS_MAX_CAPTURE];
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1); /* set to the number of CPUs by user space */
  __type(key, __u32);
  __type(value, struct scratch);
} scratch SEC(".maps");

#define RING_SIZE (8 << 20)
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, RING_SIZE);
} ring SEC(".maps");

static __always_inline void on_sock(struct sock *sk, int ret, int flags, bool egress)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if ((__u32)(pid_tgid >> 32) != target_tgid || ret <= 0)
    return;
  if (!egress && (flags & 2 /* MSG_PEEK */))
    return;
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
  long nr = WS_SYSCALL_NR(true, regs);
  const void *buf = 0;
  switch (nr) {
    case 0:  /* read */
    case 1:  /* write */
    case 44: /* sendto */
    case 45: /* recvfrom */
      buf = (const void *)PT_REGS_PARM2_SYSCALL(regs);
      break;
    case 19: /* readv */
    case 20: /* writev */ {
      struct iovec v; /* the first buffer only: a stand-in */
      if (bpf_probe_read_user(&v, sizeof(v), (const void *)PT_REGS_PARM2_SYSCALL(regs)) == 0)
        buf = v.iov_base;
      break;
    }
    case 46: /* sendmsg */
    case 47: /* recvmsg */ {
      struct user_msghdr m;
      struct iovec v;
      if (bpf_probe_read_user(&m, sizeof(m), (const void *)PT_REGS_PARM2_SYSCALL(regs)) == 0 &&
          bpf_probe_read_user(&v, sizeof(v), m.msg_iov) == 0)
        buf = v.iov_base;
      break;
    }
    default:
      cnt(C_NO_BUFFER, 1);
      return;
  }
  struct conn_key key = {.tgid = target_tgid, .fd = (int)PT_REGS_PARM1_SYSCALL(regs)};
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (!c || c->sk != (__u64)(unsigned long)sk) {
    struct conn fresh = {.sk = (__u64)(unsigned long)sk};
    bpf_map_update_elem(&conns, &key, &fresh, BPF_ANY);
    c = bpf_map_lookup_elem(&conns, &key);
    cnt(C_OPENS, 1);
    if (!c)
      return;
  }
  __u32 cpu = bpf_get_smp_processor_id();
  struct scratch *sc = bpf_map_lookup_elem(&scratch, &cpu);
  if (!sc)
    return;
  struct ws_sock_data_event *ev = &sc->ev;
  ev->hdr.type = WS_EV_SOCK_DATA;
  ev->hdr.tgid = target_tgid;
  ev->hdr.ts_ns = bpf_ktime_get_ns();
  ev->stream_pos = egress ? c->sent : c->received;
  if (egress)
    c->sent += ret;
  else
    c->received += ret;
  ev->tid = (__u32)pid_tgid;
  ev->len = ret;
  ev->direction = egress ? WS_DIR_EGRESS : WS_DIR_INGRESS;
  __u32 limit = capture_bytes < WS_MAX_CAPTURE ? capture_bytes : WS_MAX_CAPTURE;
  __u64 n = (__u64)ret < limit ? (__u64)ret : limit;
  n &= 2 * WS_MAX_CAPTURE - 1;
  if (!buf || n == 0 || bpf_probe_read_user(ev->data, n, buf))
    n = 0;
  ev->captured = n;
  __u64 size = WS_SOCK_DATA_HEADER_SIZE + n;
  if (size > sizeof(*ev))
    size = sizeof(*ev);
  __u64 wake = bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA) > RING_SIZE / 4 ? BPF_RB_FORCE_WAKEUP
                                                                           : BPF_RB_NO_WAKEUP;
  if (bpf_ringbuf_output(&ring, ev, size, wake)) {
    cnt(C_DROPS, 1);
    return;
  }
  cnt(C_DATA, 1);
  cnt(C_BYTES, n);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sh_send, struct sock *sk, int ret, int flags)
{
  on_sock(sk, ret, flags, true);
  return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sh_recv, struct sock *sk, int ret, int flags)
{
  on_sock(sk, ret, flags, false);
  return 0;
}
