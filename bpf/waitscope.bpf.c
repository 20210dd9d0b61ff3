// SPDX-License-Identifier: GPL-2.0
/* waitscope's hooks: every tracepoint waitscope attaches, each calling the
 * program families that need it (waits.bpf.h: blocked time; sockets.bpf.h:
 * connections and payload), plus the openssl family's uprobes
 * (openssl.bpf.h: TLS plaintext), which user space attaches per library file.
 *
 * One object, one program per tracepoint: sys_exit fires for every syscall
 * on the machine, and each attached program costs a dispatch even for
 * processes we do not trace, so the families share one program per hook
 * instead of attaching their own. Every hook checks the traced-process set
 * first (traced.bpf.h); untraced processes pay that read and nothing else.
 * For the same reason the tp_btf flavour has no sys_enter program at all:
 * both families read a syscall's number and arguments from its registers
 * (at sys_exit, or at sched_switch when it blocks).
 *
 * Three flavours; user space loads the first the kernel accepts (no
 * kprobes, no fentry):
 *   sched   no syscall tracepoint at all: sched_switch, the socket
 *           send/recv length tracepoints and inet_sock_set_state (x86-64,
 *           6.18+: needs bpf_task_work; waits.bpf.h, sockets.bpf.h). An
 *           untraced process's syscalls run no waitscope code.
 *   tp_btf  sys_exit and sched_switch, BTF-typed (direct loads)
 *   raw_tp  the same through raw tracepoints, plus a sys_enter program
 * The sched_process_* and TCP reset programs are shared by sched and tp_btf.
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "openssl.bpf.h" /* includes sockets.bpf.h and defines its SSL hook */
#include "sockets.bpf.h"
#include "traced.bpf.h"
#include "waits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* `btf`: a tp_btf program: regs is a BTF pointer (see WS_READ) and per-thread
 * state is in task storage (see inflight_of). */
static __always_inline void on_sys_exit(void *ctx, struct pt_regs *regs, long ret, bool btf)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!is_traced(pid_tgid >> 32))
    return;
  waits_sys_exit(ctx, regs, pid_tgid, btf);
  if (sockets_enabled)
    sockets_sys_exit(regs, ret, pid_tgid, btf);
}

static __always_inline void on_set_state(struct sock *sk, int oldstate, int newstate, bool sched)
{
  if (sockets_enabled)
    sockets_set_state(sk, oldstate, newstate, sched);
}

/* A thread exits: each family forgets it, then, at the process's last
 * thread, the process leaves the traced set (after the families, which
 * check that set). A kernel thread is skipped as at sched_switch: the
 * families kept nothing for it, and in agent mode (trace_all) each exiting
 * kworker would otherwise reach user space as a process exit. */
static __always_inline void on_exit(struct task_struct *p, bool btf)
{
  __u32 tgid = BPF_CORE_READ(p, tgid);
  if (!traced_task(p, tgid, btf))
    return;
  __u32 tid = BPF_CORE_READ(p, pid);
  waits_thread_exit(p, tgid, tid, btf);
  if (sockets_enabled)
    sockets_thread_exit(tid);
  waits_process_exit(p, tgid);
}

/* The state sched_switch's prev leaves the CPU in, for waits_sched_switch:
 * a preempted task stays runnable even if it had already set a sleeping
 * state (preempted between set_current_state() and schedule()), and the
 * tracepoint passes that state as it was. */
static __always_inline unsigned int switched_out_state(bool preempt, unsigned int prev_state)
{
  return preempt ? TASK_RUNNING : prev_state;
}

/* ---- tp_btf ------------------------------------------------------------- */

SEC("tp_btf/sys_exit")
int BPF_PROG(btf_sys_exit, struct pt_regs *regs, long ret)
{
  on_sys_exit(ctx, regs, ret, true);
  return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
             unsigned int prev_state)
{
  waits_sched_switch(ctx, prev, next, switched_out_state(preempt, prev_state), true, false);
  return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(btf_fork, struct task_struct *parent, struct task_struct *child)
{
  waits_fork(parent, child);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(btf_exec, struct task_struct *p)
{
  waits_exec(p);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(btf_exit, struct task_struct *p)
{
  on_exit(p, true);
  return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_set_state, struct sock *sk, int oldstate, int newstate)
{
  on_set_state(sk, oldstate, newstate, false);
  return 0;
}

/* Reset tracepoints: the socket is the first argument in every kernel
 * version (6.10 added a reason after the skb). */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(btf_send_reset, const struct sock *sk)
{
  if (sockets_enabled && sk)
    sockets_reset((struct sock *)sk, true);
  return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(btf_receive_reset, struct sock *sk)
{
  if (sockets_enabled)
    sockets_reset(sk, false);
  return 0;
}

/* ---- sched: no syscall tracepoint --------------------------------------- */

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
             unsigned int prev_state)
{
  waits_sched_switch(ctx, prev, next, switched_out_state(preempt, prev_state), true, true);
  return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sched_set_state, struct sock *sk, int oldstate, int newstate)
{
  on_set_state(sk, oldstate, newstate, true);
  return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sched_sock_send, struct sock *sk, int ret, int flags)
{
  if (sockets_enabled)
    sockets_sock_io(sk, ret, flags, true);
  return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sched_sock_recv, struct sock *sk, int ret, int flags)
{
  if (sockets_enabled)
    sockets_sock_io(sk, ret, flags, false);
  return 0;
}

/* ---- raw_tp fallbacks (kernels where tp_btf cannot attach) ------------- */

SEC("raw_tp/sys_enter")
int raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (is_traced(pid_tgid >> 32))
    waits_sys_enter((struct pt_regs *)ctx->args[0], (long)ctx->args[1], pid_tgid);
  return 0;
}

SEC("raw_tp/sys_exit")
int raw_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
  on_sys_exit(ctx, (struct pt_regs *)ctx->args[0], (long)ctx->args[1], false);
  return 0;
}

SEC("raw_tp/sched_switch")
int raw_sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
  waits_sched_switch(ctx, (struct task_struct *)ctx->args[1], (struct task_struct *)ctx->args[2],
                     switched_out_state((bool)ctx->args[0], (unsigned int)ctx->args[3]), false,
                     false);
  return 0;
}

SEC("raw_tp/sched_process_fork")
int raw_fork(struct bpf_raw_tracepoint_args *ctx)
{
  waits_fork((struct task_struct *)ctx->args[0], (struct task_struct *)ctx->args[1]);
  return 0;
}

SEC("raw_tp/sched_process_exec")
int raw_exec(struct bpf_raw_tracepoint_args *ctx)
{
  waits_exec((struct task_struct *)ctx->args[0]);
  return 0;
}

SEC("raw_tp/sched_process_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
  on_exit((struct task_struct *)ctx->args[0], false);
  return 0;
}

SEC("raw_tp/inet_sock_set_state")
int raw_set_state(struct bpf_raw_tracepoint_args *ctx)
{
  on_set_state((struct sock *)ctx->args[0], (int)ctx->args[1], (int)ctx->args[2], false);
  return 0;
}

SEC("raw_tp/tcp_send_reset")
int raw_send_reset(struct bpf_raw_tracepoint_args *ctx)
{
  struct sock *sk = (struct sock *)ctx->args[0];
  if (sockets_enabled && sk)
    sockets_reset(sk, true);
  return 0;
}

SEC("raw_tp/tcp_receive_reset")
int raw_receive_reset(struct bpf_raw_tracepoint_args *ctx)
{
  if (sockets_enabled)
    sockets_reset((struct sock *)ctx->args[0], false);
  return 0;
}
