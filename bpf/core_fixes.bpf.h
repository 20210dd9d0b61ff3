/* Kernel-version differences (CO-RE field checks), and kernel structs that
 * more than one program family reads, in one place. */
#ifndef WAITSCOPE_CORE_FIXES_BPF_H
#define WAITSCOPE_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* tp_btf programs get BTF-typed pointers and may load kernel fields
 * directly: the verifier turns each load into an exception-safe load, no
 * helper call (~1 ns against ~20 ns for bpf_probe_read_kernel on our VMs,
 * and the scheduler hook runs on every context switch of the machine).
 * raw_tp programs must use the helper. Bodies shared by both kinds take
 * `btf` as a compile-time constant and read through these macros; after
 * inlining exactly one form is left in each program. */
#define WS_READ(btf, src, a, ...)                                                \
  ((btf) ? (___type((src), a, ##__VA_ARGS__))___arrow((src), a, ##__VA_ARGS__) \
         : BPF_CORE_READ((src), a, ##__VA_ARGS__))
#define WS_SYSCALL_ARG(btf, n, regs) \
  ((btf) ? PT_REGS_PARM##n##_SYSCALL(regs) : PT_REGS_PARM##n##_CORE_SYSCALL(regs))

/* The syscall number in a task's user registers (sys_exit's regs, or
 * bpf_task_pt_regs): the hooks need no sys_enter program to know which
 * syscall returns or blocks, and the arguments are still in the registers
 * they came in (the kernel only writes the return value). */
#if defined(__TARGET_ARCH_x86)
#define WS_SYSCALL_NR(btf, regs) ((long)WS_READ(btf, regs, orig_ax))
/* True if the task whose user registers these are is inside a syscall that
 * has not returned. Exception and interrupt entries (a page fault from user
 * code) leave orig_ax at -1. Syscall entry stores -ENOSYS in ax until the
 * result replaces it: that excludes a thread that stops (a signal stop)
 * after its syscall returned, before it reached user space. `regs` is a BTF
 * pointer. */
static __always_inline bool ws_in_syscall(struct pt_regs *regs)
{
  return (long)regs->orig_ax >= 0 && (long)regs->ax == -38 /* -ENOSYS */;
}
/* True if the task entered the kernel through an exception (for a thread
 * that blocks there: a page fault). Interrupt entries store the inverted
 * vector (<= -33), syscalls their number. */
static __always_inline bool ws_in_exception(struct pt_regs *regs)
{
  return (long)regs->orig_ax == -1;
}
#elif defined(__TARGET_ARCH_arm64)
#define WS_SYSCALL_NR(btf, regs) ((long)WS_READ(btf, regs, syscallno))
/* Exception entry stores NO_SYSCALL (-1) in syscallno; a syscall its number. */
static __always_inline bool ws_in_syscall(struct pt_regs *regs)
{
  return (int)regs->syscallno >= 0;
}
/* Exceptions and interrupts alike; a thread blocks in a page fault, and
 * does not block in an interrupt. */
static __always_inline bool ws_in_exception(struct pt_regs *regs)
{
  return (int)regs->syscallno == -1;
}
#endif

/* struct unix_address: `name` became a flexible array of struct sockaddr_un
 * in 5.x; older kernels have `struct sockaddr_un name[0]` which reads the
 * same. Read only here, so a rename only touches this file. */

/* The address a UNIX socket is known by, shared by the waits and sockets
 * families: its peer's (a client of /run/postgresql/.s.PGSQL.5432 is unnamed
 * itself), else its own (an accepted socket shares its listener's). NULL
 * when neither side is bound (socketpair). */
static __always_inline struct unix_address *ws_unix_address(struct sock *sk)
{
  struct unix_sock *us = (struct unix_sock *)sk;
  struct sock *peer = BPF_CORE_READ(us, peer);
  struct unix_address *ua = 0;
  if (peer)
    ua = BPF_CORE_READ((struct unix_sock *)peer, addr);
  if (!ua)
    ua = BPF_CORE_READ(us, addr);
  return ua;
}

/* Kernel address of the path of `ua`; an abstract name's leading NUL is
 * skipped and *abstract set. */
static __always_inline const char *ws_unix_path(struct unix_address *ua, bool *abstract)
{
  const char *path = (const char *)&ua->name[0].sun_path;
  char first = 0;
  bpf_probe_read_kernel(&first, 1, path);
  *abstract = first == 0;
  return *abstract ? path + 1 : path;
}

/* task_struct::state was renamed to __state in 5.14 (commit 2f064a59a11f). */
struct task_struct___pre514 {
  long state;
} __attribute__((preserve_access_index));

static __always_inline unsigned int ws_task_state(struct task_struct *t)
{
  if (bpf_core_field_exists(t->__state))
    return BPF_CORE_READ(t, __state);
  return (unsigned int)BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

#endif
