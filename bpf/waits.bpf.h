/* The waits family: how long traced threads are blocked inside syscalls,
 * and on what. Included by bpf/waitscope.bpf.c, which owns the hooks.
 *
 * Hooks (tracepoints only: no kprobes, no fentry):
 *   sched_switch   a thread in a syscall leaves the CPU blocked: start an
 *                  off-CPU interval and, the first time in this syscall,
 *                  read the syscall number and fd argument from the
 *                  thread's saved user registers and classify the fd;
 *                  it comes back: add the interval. A thread blocked in a
 *                  page fault (tp_btf) is one wait per block, added when
 *                  it comes back
 *   sys_exit       if the syscall was off CPU at all, aggregate
 *                  (tgid, syscall, user stack, target) -> count/total/max
 *                  (not in the "sched" flavour, below)
 *   sys_enter      raw_tp flavour only: remember syscall number and fd
 *                  (raw_tp programs use no BTF-typed task pointers, so
 *                  they do not read registers at sched_switch)
 *   sched_process_fork/exec/exit  follow child processes, tell user space
 *
 * The tp_btf flavour has no sys_enter program: syscalls that never block
 * are most syscalls, and a sys_enter program costs every syscall on the
 * machine a dispatch (~46 ns on our VMs, tools/bench/hook_floor.py), while
 * the scheduler hook already runs when a syscall blocks.
 *
 * The "sched" flavour (x86-64, kernels with bpf_task_work) attaches no
 * syscall tracepoint at all: attaching sys_exit sends every syscall of every
 * task through the slow path and a dispatch (+73 ns on our VMs), which is
 * most of what an untraced process pays. There, each block is added when
 * the thread comes back (count once per syscall, its time block by block).
 * Where one syscall ends and the next begins is read from the thread's
 * TIF_NEED_FPU_LOAD flag: the switch-out sets it and only the way back to
 * user space clears it, so a thread that blocks with the flag set has not
 * left the kernel since its last block. A wait that reaches the stack
 * threshold gets its user stack from a task work that runs in the thread as
 * it returns to user space (the only point, without sys_exit, where the
 * thread runs with the syscall's user registers and stack).
 *
 * The hooks in waitscope.bpf.c check the traced-process set first and call
 * the waits_* bodies below only for traced threads.
 */
#ifndef WAITSCOPE_WAITS_BPF_H
#define WAITSCOPE_WAITS_BPF_H

#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "core_fixes.bpf.h"
#include "maps.bpf.h"
#include "task_work.bpf.h"
#include "traced.bpf.h"
#include "waitscope/bpf/waits.h"

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define TASK_RUNNING 0
/* Stopped, traced or frozen: on the way back to user space, never in a
 * fault (arm64 clears syscallno before a signal stop, like an exception). */
#define WS_TASK_NOT_IN_FAULT                                 \
  (0x4 /* __TASK_STOPPED */ | 0x8 /* __TASK_TRACED */ |      \
   0x8000 /* TASK_FROZEN */)

/* inflight.active */
#define WS_IN_SYSCALL 1
#define WS_IN_FAULT 2 /* blocked in a page fault: one wait per block */

/* Configuration, set by user space between open and load. */
const volatile __u64 min_stack_ns = 1000000; /* take user stacks for waits >= this */
/* Send each wait at least this long as a WS_EV_WAIT event (request
 * attribution needs the time and thread of every wait; the aggregate does
 * not). ~0: off. */
const volatile __u64 wait_event_min_ns = ~0ULL;
/* "sched" flavour: TIF_NEED_FPU_LOAD in thread_info.flags on this kernel. */
const volatile __u64 tif_need_fpu_load = 0;

/* One entry per traced thread, created the first time it blocks (tp_btf) or
 * at its first syscall (raw_tp) and updated in place afterwards: an update
 * plus a delete per syscall would cost more than everything else the hooks
 * do. Found through inflight_of (below). */
/* inflight.counted: the syscall's wait is counted in the row of its key
 * with no stack (WS_STACK_NONE: it was shorter than the stack threshold
 * until now), or, whole, in the row of waits whose stack is missing, or,
 * whole, by the task work that takes its stack (it may not have run yet). */
#define WS_COUNTED_NO_STACK 1
#define WS_COUNTED_MISSING 2
#define WS_COUNTED_BY_STACK_WORK 3

struct inflight {
  __u64 switch_out_ns; /* 0 while on CPU */
  __u64 offcpu_ns;
  __u32 syscall_nr;
  __s32 fd;       /* -1: no fd argument */
  __u8 active;    /* 0, WS_IN_SYSCALL or WS_IN_FAULT */
  __u8 resolved;  /* target filled */
  __u8 counted;   /* "sched" flavour: where this syscall's count is in `waits`
                   * (0: not yet; WS_COUNTED_*) */
  __u8 pad;
  /* What `target` describes: a thread blocking on the same open file again
   * (a read loop, a connection) reuses it instead of classifying again. The
   * inode number and generation guard against a freed struct file reused
   * for another file: close, unlink and create again is likely to get the
   * same slab object and, on ext4, the same inode number. */
  __u32 target_gen;
  struct ws_target target;
  __u64 target_file;
  __u64 target_ino;
  __u64 fault_stack; /* WS_IN_FAULT: the stack taken when it blocked */
  __u64 arg0;        /* "sched" flavour: the syscall's first argument */
  /* The thread's CPU time and run-queue delay at switch-out, to
   * measure a block whose switch-in went unseen (settle_unseen_switch_in). */
  __u64 out_exec_ns;
  __u64 out_delay_ns;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WS_SYSCALL_TABLE_SIZE);
  __type(key, __u32);
  __type(value, __u8);
} syscall_flags SEC(".maps");

/* tp_btf flavour: the entry lives in the thread's task storage (a pointer
 * compare on the task instead of hashing a tid; each blocking syscall looks
 * it up four times) and dies with the task. raw_tp programs cannot name the
 * switched-in task as a task pointer, so that flavour keeps the tid-keyed
 * hash (deleted at thread exit). User space creates only the map its
 * flavour uses (bpf_map__set_autocreate). */
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct inflight);
} inflight_task SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32); /* tid */
  __type(value, struct inflight);
} inflight SEC(".maps");

/* The entry of thread `task` (tid `tid`), or NULL; with `create`, made on
 * first use. `btf`: task is a BTF pointer (tp_btf flavour). */
static __always_inline struct inflight *inflight_of(struct task_struct *task, __u32 tid, bool btf,
                                                    bool create)
{
  if (btf)
    return bpf_task_storage_get(&inflight_task, task, 0,
                                create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
  if (!create)
    return bpf_map_lookup_elem(&inflight, &tid);
  struct inflight init = {};
  return ws_lookup_or_init(&inflight, &tid, &init);
}

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ws_wait_key);
  __type(value, struct ws_wait_val);
} waits SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, struct ws_stack_key);
  __type(value, struct ws_stack);
} stacks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct ws_name_key);
  __type(value, __u8);
} names_sent SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ws_stack);
} stack_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ws_name_event);
} name_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WS_CNT_MAX);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Adds n (which may be (__u64)-1: per-CPU values wrap, their sum is right). */
static __always_inline void count_n(__u32 idx, __u64 n)
{
  __u64 *c = bpf_map_lookup_elem(&counters, &idx);
  if (c)
    *c += n; /* per-CPU: no atomics needed */
}

static __always_inline void count(__u32 idx)
{
  count_n(idx, 1);
}

/* ---- target classification ------------------------------------------- */

/* State of one bounded path walk (see send_path_name). */
struct path_walk {
  struct dentry *dentry;
  struct mount *mnt;
  struct dentry *mnt_root;
  __u32 depth;
  __u32 reached_root;
};

/* One step towards the root, crossing mounts the way d_path does. Runs under
 * bpf_loop so the verifier checks it once instead of once per iteration. */
static long path_walk_step(__u32 index, void *data)
{
  struct path_walk *w = data;
  __u32 zero = 0;
  struct ws_name_event *ev = bpf_map_lookup_elem(&name_scratch, &zero);
  if (!ev)
    return 1;
  /* Copy to locals: BPF_CORE_READ(w->x, ...) would relocate w's own
   * (local, not kernel) struct too. */
  struct dentry *dentry = w->dentry;
  struct mount *mnt = w->mnt;
  struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
  if (dentry == w->mnt_root || dentry == parent) {
    struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
    if (!mnt_parent || mnt_parent == mnt) {
      w->reached_root = 1;
      return 1;
    }
    w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
    w->mnt = mnt_parent;
    w->mnt_root = BPF_CORE_READ(mnt_parent, mnt.mnt_root);
    return 0;
  }
  if (w->depth >= WS_PATH_MAX_DEPTH)
    return 1;
  const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
  bpf_probe_read_kernel_str(ev->components[w->depth & (WS_PATH_MAX_DEPTH - 1)],
                            WS_PATH_COMPONENT_LEN, name);
  w->depth++;
  w->dentry = parent;
  return 0;
}

static __always_inline void send_path_name(struct ws_name_key *key, struct dentry *dentry,
                                           struct vfsmount *vfsmnt)
{
  __u8 one = 1;
  if (bpf_map_update_elem(&names_sent, key, &one, BPF_NOEXIST))
    return; /* already sent (or being sent by another CPU) */

  __u32 zero = 0;
  struct ws_name_event *ev = bpf_map_lookup_elem(&name_scratch, &zero);
  if (!ev)
    return;
  ev->hdr.type = WS_EV_NAME;
  ev->hdr.tgid = bpf_get_current_pid_tgid() >> 32;
  ev->hdr.ts_ns = bpf_ktime_get_ns();
  ev->key = *key;

  struct path_walk w = {
      .dentry = dentry,
      .mnt = container_of(vfsmnt, struct mount, mnt),
      .mnt_root = BPF_CORE_READ(vfsmnt, mnt_root),
  };
  bpf_loop(WS_PATH_MAX_DEPTH * 2, path_walk_step, &w, 0);
  ev->depth = w.depth;
  ev->flags = w.reached_root ? 0 : WS_NAME_TRUNCATED;
  if (bpf_ringbuf_output(&events, ev, sizeof(*ev), 0)) {
    bpf_map_delete_elem(&names_sent, key); /* try again next time */
    count(WS_CNT_RINGBUF_DROPS);
  }
}

static __always_inline void send_unix_name(struct ws_name_key *key, struct unix_address *ua)
{
  __u8 one = 1;
  if (bpf_map_update_elem(&names_sent, key, &one, BPF_NOEXIST))
    return;
  struct ws_name_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
  if (!ev) {
    bpf_map_delete_elem(&names_sent, key);
    count(WS_CNT_RINGBUF_DROPS);
    return;
  }
  ev->hdr.type = WS_EV_NAME;
  ev->hdr.tgid = bpf_get_current_pid_tgid() >> 32;
  ev->hdr.ts_ns = bpf_ktime_get_ns();
  ev->key = *key;
  ev->flags = 0;
  ev->depth = 0;
  if (ua) {
    bool abstract = false;
    const char *path = ws_unix_path(ua, &abstract);
    if (abstract)
      ev->flags |= WS_NAME_ABSTRACT;
    bpf_probe_read_kernel_str(ev->components[0], WS_PATH_COMPONENT_LEN, path);
    ev->depth = 1;
  }
  bpf_ringbuf_submit(ev, 0);
}

static __always_inline void classify_socket(struct file *file, struct ws_target *t)
{
  struct socket *sock = BPF_CORE_READ(file, private_data);
  struct sock *sk = BPF_CORE_READ(sock, sk);
  if (!sk) {
    t->kind = WS_TARGET_SOCKET;
    return;
  }
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  t->family = family;
  if (family == AF_INET || family == AF_INET6) {
    /* Read into typed locals: BPF_CORE_READ_INTO sizes the copy by its
     * destination, and t->addr is a byte array. */
    __u16 dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
    bool connected = dport != 0;
    t->kind = connected ? WS_TARGET_INET : WS_TARGET_LISTEN;
    t->port = connected ? __builtin_bswap16(dport) : BPF_CORE_READ(sk, __sk_common.skc_num);
    if (family == AF_INET) {
      __u32 a = connected ? BPF_CORE_READ(sk, __sk_common.skc_daddr)
                          : BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
      __builtin_memcpy(t->addr, &a, sizeof(a));
    } else {
      struct in6_addr a6;
      if (connected)
        BPF_CORE_READ_INTO(&a6, sk, __sk_common.skc_v6_daddr);
      else
        BPF_CORE_READ_INTO(&a6, sk, __sk_common.skc_v6_rcv_saddr);
      __builtin_memcpy(t->addr, &a6, sizeof(a6));
    }
    return;
  }
  if (family == AF_UNIX) {
    struct unix_address *ua = ws_unix_address(sk);
    t->kind = WS_TARGET_UNIX;
    t->ino = (__u64)(unsigned long)ua; /* identity of the address object */
    struct ws_name_key key = {.kind = WS_TARGET_UNIX, .dev = 0, .ino = t->ino};
    send_unix_name(&key, ua);
    return;
  }
  t->kind = WS_TARGET_SOCKET;
}

/* The open file behind fd of task, or NULL. `btf`: task is a BTF pointer
 * (see WS_READ). */
static __always_inline struct file *fd_file(struct task_struct *task, int fd, bool btf)
{
  struct fdtable *fdt = WS_READ(btf, task, files, fdt);
  unsigned int max_fds = WS_READ(btf, fdt, max_fds);
  if (fd < 0 || (unsigned int)fd >= max_fds)
    return 0;
  /* A pointer to pointers loads as a plain number even from a BTF pointer,
   * so the slot itself is read with the helper in both kinds. */
  struct file **fds = WS_READ(btf, fdt, fd);
  struct file *file = 0;
  bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
  return file;
}

static __always_inline void classify_file(struct file *file, struct inode *inode,
                                          struct ws_target *t)
{
  __u16 mode = BPF_CORE_READ(inode, i_mode);
  t->dev = BPF_CORE_READ(inode, i_sb, s_dev);
  t->ino = BPF_CORE_READ(inode, i_ino);

  switch (mode & S_IFMT) {
    case S_IFSOCK:
      classify_socket(file, t);
      return;
    case S_IFIFO:
      t->kind = WS_TARGET_PIPE;
      return;
    case S_IFREG:
    case S_IFDIR:
    case S_IFBLK:
    case S_IFCHR: {
      __u16 fmt = mode & S_IFMT;
      t->kind = fmt == S_IFBLK ? WS_TARGET_BLOCK
                : fmt == S_IFCHR ? WS_TARGET_CHAR
                                 : WS_TARGET_FILE;
      t->gen = BPF_CORE_READ(inode, i_generation); /* 0 elsewhere: t starts zeroed */
      struct ws_name_key key = {.kind = t->kind, .dev = t->dev, .ino = t->ino, .gen = t->gen};
      send_path_name(&key, BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt));
      return;
    }
    default: {
      /* anon inodes have no type bits; they all share one inode, so the
       * dentry name ("[eventfd]", "[timerfd]") is what tells them apart. */
      t->kind = WS_TARGET_ANON;
      t->dev = 0;
      t->ino = 0;
      const unsigned char *name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
      bpf_probe_read_kernel_str(t->addr, sizeof(t->addr), name);
      return;
    }
  }
}

/* ---- user stacks -------------------------------------------------------- */

#if defined(__TARGET_ARCH_x86)
/* True if w may be a user-space code address (x86-64, 4-level page tables:
 * user space ends at 2^47; the first page is never mapped). */
static __always_inline bool in_user_range(__u64 w)
{
  return w >= 4096 && w < 0x800000000000ULL;
}

/* A callee starts at most this far below any address inside it: how the
 * call-target checks below tell the callee a return address belongs to. */
#define WS_CALLEE_SPAN (64 * 1024)

static __always_inline __s32 ws_le32(const __u8 *b)
{
  return (__s32)((__u32)b[0] | (__u32)b[1] << 8 | (__u32)b[2] << 16 | (__u32)b[3] << 24);
}

/* Where a call to `entry` ends up: a PLT entry (`jmp *disp32(%rip)`, after
 * an endbr64 and a bnd prefix where the binary has them) jumps to what its
 * GOT slot holds, a thunk (`jmp rel32`) to its target; anything else is the
 * callee itself. A slot of a lazily bound function holds its address by
 * the time the function runs: the dynamic linker writes it before it jumps. */
static __always_inline __u64 through_jumps(__u64 entry)
{
  __u8 b[16];
  if (bpf_probe_read_user(b, sizeof(b), (const void *)entry))
    return entry;
  __u64 slot = 0;
  if (b[0] == 0xe9) {
    __u64 target = entry + 5 + (__s64)ws_le32(&b[1]);
    return in_user_range(target) ? target : entry;
  }
  if (b[0] == 0xff && b[1] == 0x25)
    slot = entry + 6 + (__s64)ws_le32(&b[2]);
  else if (b[0] == 0xf2 && b[1] == 0xff && b[2] == 0x25)
    slot = entry + 7 + (__s64)ws_le32(&b[3]);
  else if (b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa) { /* endbr64 */
    if (b[4] == 0xff && b[5] == 0x25)
      slot = entry + 10 + (__s64)ws_le32(&b[6]);
    else if (b[4] == 0xf2 && b[5] == 0xff && b[6] == 0x25)
      slot = entry + 11 + (__s64)ws_le32(&b[7]);
  }
  __u64 fn = 0;
  if (!slot || bpf_probe_read_user(&fn, sizeof(fn), (const void *)slot) || !in_user_range(fn))
    return entry;
  return fn;
}

/* What the instruction before a candidate return address says. */
enum call_kind {
  NOT_A_CALL,            /* no call instruction ends there */
  CALL_THROUGH_REGISTER, /* a call whose callee cannot be known here */
  CALL_TO_KNOWN,         /* a call whose callee was read */
};

/* Classifies the instruction that ends at `ret`. With `resolve`, for a call
 * whose target can be read, *callee is where it ends up (through_jumps);
 * without, only the instruction is read (one user read instead of up to
 * three) and *callee is left alone. */
static __always_inline enum call_kind call_before(__u64 ret, __u64 *callee, bool resolve)
{
  __u8 b[8];
  if (bpf_probe_read_user(b, sizeof(b), (const void *)(ret - 8)))
    return NOT_A_CALL;
  if (b[3] == 0xe8) { /* call rel32 */
    if (resolve)
      *callee = through_jumps(ret + (__s64)ws_le32(&b[4]));
    return CALL_TO_KNOWN;
  }
  if (b[2] == 0xff && b[3] == 0x15) /* call *disp32(%rip), -fno-plt */
    return resolve && bpf_probe_read_user(callee, sizeof(*callee),
                                          (const void *)(ret + ws_le32(&b[4])))
               ? CALL_THROUGH_REGISTER
               : CALL_TO_KNOWN;
  if ((b[6] == 0xff && (b[7] & 0xf8) == 0xd0) || /* call *%reg */
      (b[5] == 0xff && (b[6] & 0xf8) == 0x50))   /* call *disp8(%reg) */
    return CALL_THROUGH_REGISTER;
  return NOT_A_CALL;
}

/* True if `ip` may lie in the function that starts at `fn`. */
static __always_inline bool callee_may_contain(__u64 fn, __u64 ip)
{
  return fn <= ip && ip - fn < WS_CALLEE_SPAN;
}

/* The top of the user stack, copied in one read for the leaf scan: read
 * word by word, the 64 reads alone took ~4-5 us per scan when every page
 * fault took one (docs/design.md, "What a stack costs"). */
struct leaf_words {
  __u64 w[WS_LEAF_SCAN_WORDS];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct leaf_words);
} leaf_scratch SEC(".maps");

/* State of the leaf scan (see add_leaf_callers), run under bpf_loop. */
struct leaf_scan {
  struct ws_stack *st;
  const struct leaf_words *words;
  __u64 sp;
  __u64 inner;    /* ip of the innermost frame so far: the next caller's callee */
  __u64 fp_first; /* first return address the frame-pointer walk found */
  __u64 fp_owner; /* start of the function whose frame the walk began at, or 0 */
  __u32 n;        /* words copied */
  __u32 found;
  __u32 probes;   /* call_before reads so far */
};

/* Words that point near the stack pointer are addresses of the stack itself
 * (saved frame pointers, addresses of locals), which is never code: the
 * scan does not read the bytes before them. */
#define WS_LEAF_STACK_BELOW 4096
#define WS_LEAF_STACK_ABOVE (64 * 1024)
/* call_before reads at most this many candidates per scan: each is a user
 * read of its own, and a word that points at an unmapped or not yet
 * faulted page costs a trap. */
#define WS_LEAF_SCAN_PROBES 16

static long leaf_scan_step(__u32 i, void *data)
{
  struct leaf_scan *s = data;
  if (i >= s->n)
    return 1;
  const __u64 w = s->words->w[i & (WS_LEAF_SCAN_WORDS - 1)];
  if (!in_user_range(w))
    return 0;
  if (w + WS_LEAF_STACK_BELOW >= s->sp && w < s->sp + WS_LEAF_STACK_ABOVE)
    return 0;
  if (w == s->fp_first)
    return 1; /* reached what the frame-pointer walk already has */
  if (++s->probes > WS_LEAF_SCAN_PROBES)
    return 1;
  /* A return into the function that owns the frame the walk began at is its
   * live one whatever it called (an interposer such as ASan's
   * pthread_mutex_lock may have jumped on to the function that blocks), and
   * the last caller to find: the words above it up to that frame are its
   * locals, where return addresses of its earlier calls, and of its
   * caller's earlier calls, linger. Its call's target is not needed. */
  const bool into_owner = s->fp_owner && callee_may_contain(s->fp_owner, w);
  __u64 callee = 0;
  const enum call_kind call = call_before(w, &callee, !into_owner);
  if (call == NOT_A_CALL)
    return 0;
  /* Below it, a return address of an earlier call, still in a frame's
   * locals, ends a call to some other function: skipped, the scan goes on. */
  if (!into_owner && call == CALL_TO_KNOWN && !callee_may_contain(callee, s->inner))
    return 0;
  __u32 slot = 1 + s->found;
  if (slot > WS_LEAF_SCAN_SLOTS)
    return 1;
  s->st->ips[slot & (WS_MAX_STACK_DEPTH - 1)] = w;
  s->inner = w;
  s->found++;
  s->st->flags |= WS_STACK_LEAF_CALLER_ADDED;
  return into_owner ? 1 : 0;
}

/* Copies the words the leaf scan looks at, from sp up to the frame pointer
 * (words at or above it belong to the frame-pointer walk) or
 * WS_LEAF_SCAN_WORDS of them. Returns how many words were copied. */
static __always_inline __u32 copy_leaf_words(struct leaf_words *words, __u64 sp, __u64 fp)
{
  __u32 bytes = sizeof(words->w);
  if (fp > sp && fp - sp < bytes)
    bytes = (fp - sp) & ~7U;
  /* Through the barrier the verifier sees the bound checked below; the
   * compiler would otherwise fold it into the lines above. */
  barrier_var(bytes);
  if (bytes == 0 || bytes > sizeof(words->w))
    return 0;
  if (bpf_probe_read_user(words->w, bytes, (const void *)sp) == 0)
    return bytes / 8;
  /* The copy ran past the top of the stack into an unmapped page: the
   * words up to the end of sp's page are there. */
  __u32 in_page = (4096 - (sp & 4095)) & ~7U;
  barrier_var(in_page);
  if (in_page == 0 || in_page >= bytes)
    return 0;
  /* in_page < bytes <= sizeof(words->w): the mask changes nothing but
   * shows the verifier the bound. */
  if (bpf_probe_read_user(words->w, in_page & (sizeof(words->w) - 1), (const void *)sp))
    return 0;
  return in_page / 8;
}

/* Syscall wrappers in libc are built without frame pointers, so the frame
 * pointer walk skips the functions between the syscall and the first frame
 * that keeps a frame pointer: exactly the "which function of mine fsyncs /
 * sleeps / locks?" frame a person needs. Recover them by scanning the user
 * stack between sp and the frame pointer for values that follow a call
 * instruction into the function of the frame found before it (libc's own
 * frames first, then the caller's). */
static __always_inline void add_leaf_callers(struct pt_regs *regs, struct ws_stack *st,
                                             __u64 walk_owner)
{
  __u32 zero = 0;
  struct leaf_words *words = bpf_map_lookup_elem(&leaf_scratch, &zero);
  if (!words)
    return;
  struct leaf_scan s = {
      .st = st,
      .words = words,
      .sp = BPF_CORE_READ(regs, sp),
      .inner = BPF_CORE_READ(regs, ip),
      .fp_first = st->ips[WS_LEAF_SCAN_SLOTS + 1],
  };
  const __u64 fp = BPF_CORE_READ(regs, bp);
  s.n = copy_leaf_words(words, s.sp, fp);
  /* Only an rbp just above sp is taken for the frame of walk_owner: code
   * built without frame pointers uses rbp for anything, stack addresses
   * included. */
  if (fp > s.sp && fp - s.sp < WS_LEAF_STACK_ABOVE)
    s.fp_owner = walk_owner;
  if (s.n)
    bpf_loop(WS_LEAF_SCAN_WORDS, leaf_scan_step, &s, 0);
}

/* Checks where the frame-pointer walk began. Its first return address ends
 * the call that entered the function whose frame rbp was: with `want_owner`
 * (a constant), returns where that function starts (0 if the call's target
 * cannot be read). If it ends no call, rbp was no frame pointer (code built
 * without them uses it as a register) and the walk read locals: it is
 * dropped, the ip and the scanned callers stay. */
static __always_inline __u64 check_walk(struct ws_stack *st, bool want_owner)
{
  const __u32 first = WS_LEAF_SCAN_SLOTS + 1;
  if (st->depth <= first)
    return 0;
  __u64 owner = 0;
  const enum call_kind call = call_before(st->ips[first], &owner, want_owner);
  if (call == NOT_A_CALL) {
    st->depth = first;
    st->ips[first] = 0;
    return 0;
  }
  return call == CALL_TO_KNOWN ? owner : 0;
}

/* A fault in a function that set up no frame (GCC omits it in leaf
 * functions) leaves that function's return address at sp, and the
 * frame-pointer walk skips its caller. The word at sp is taken only if it
 * ends a call into the function that faulted (call_before). Anything else
 * there, in a function with a frame, is a local, perhaps a stale return
 * address (see begin_fault). */
static __always_inline void add_fault_caller(struct pt_regs *regs, struct ws_stack *st)
{
  __u64 ret = 0;
  if (bpf_probe_read_user(&ret, sizeof(ret), (const void *)BPF_CORE_READ(regs, sp)))
    return;
  if (!in_user_range(ret) || ret == st->ips[WS_LEAF_SCAN_SLOTS + 1])
    return;
  __u64 callee = 0;
  if (call_before(ret, &callee, true) != CALL_TO_KNOWN ||
      !callee_may_contain(callee, BPF_CORE_READ(regs, ip)))
    return;
  st->ips[1] = ret;
  st->flags |= WS_STACK_LEAF_CALLER_ADDED;
}
#else
/* arm64: return addresses in frame records may carry pointer-authentication
 * bits above the address, so only the first page is ruled out. */
static __always_inline bool in_user_range(__u64 w)
{
  return w >= 4096;
}

/* arm64: the walk is taken as it is. */
static __always_inline __u64 check_walk(struct ws_stack *st, bool want_owner)
{
  (void)st;
  (void)want_owner;
  return 0;
}

/* arm64: a leaf wrapper keeps its caller in the link register. */
static __always_inline void add_leaf_callers(struct pt_regs *regs, struct ws_stack *st,
                                             __u64 walk_owner)
{
  (void)walk_owner;
  __u64 lr = PT_REGS_RET_CORE(regs);
  if (lr && lr != st->ips[WS_LEAF_SCAN_SLOTS + 1]) {
    st->ips[1] = lr;
    st->flags |= WS_STACK_LEAF_CALLER_ADDED;
  }
}

/* arm64: at a fault the link register is stale in any function that has
 * made a call, and nothing here tells which; not used. */
static __always_inline void add_fault_caller(struct pt_regs *regs, struct ws_stack *st)
{
  (void)regs;
  (void)st;
}
#endif

/* Where store_user_stack_of looks for the callers a frame-pointer walk
 * skips: for a thread stopped in a syscall, a scan of the stack's top
 * (add_leaf_callers); in a page fault, only a checked return address at sp
 * (add_fault_caller). */
enum leaf_callers {
  LEAF_OF_SYSCALL,
  LEAF_OF_FAULT,
};

/* Returns the stack's hash (WS_STACK_MISSING if no stack could be stored).
 * The stack is the current thread's: read through ctx, or with `from_task`
 * (a constant) through `task`, a BTF pointer to the current task (a task
 * work has no context). `leaf` (a constant): see enum leaf_callers. */
static __always_inline __u64 store_user_stack_of(void *ctx, struct task_struct *task,
                                                 struct pt_regs *regs, __u32 tgid, bool from_task,
                                                 enum leaf_callers leaf)
{
  __u32 zero = 0;
  struct ws_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);
  if (!st)
    return WS_STACK_MISSING;
  /* ips[0] = where the thread entered the kernel; ips[1..SLOTS] are left
   * for callers found by add_leaf_callers (0 when unused); the frame-pointer
   * walk continues at ips[SLOTS + 1]. bpf_get_stack puts the ip first, so
   * write it at ips[SLOTS] and move it to ips[0]. */
  const __u32 room = sizeof(st->ips) - WS_LEAF_SCAN_SLOTS * sizeof(st->ips[0]);
  long bytes = from_task ? bpf_get_task_stack(task, &st->ips[WS_LEAF_SCAN_SLOTS], room,
                                              BPF_F_USER_STACK)
                         : bpf_get_stack(ctx, &st->ips[WS_LEAF_SCAN_SLOTS], room,
                                         BPF_F_USER_STACK);
  if (bytes <= 0) {
    count(WS_CNT_STACK_ERRORS);
    return WS_STACK_MISSING;
  }
  st->depth = bytes / sizeof(__u64) + WS_LEAF_SCAN_SLOTS;
  /* A full buffer: the walk may have gone on (cleared below if it ended
   * early at a frame that was no frame). */
  st->flags = bytes >= room ? WS_STACK_TRUNCATED : 0;
  st->ips[0] = st->ips[WS_LEAF_SCAN_SLOTS];
  for (int i = 1; i <= WS_LEAF_SCAN_SLOTS; i++)
    st->ips[i] = 0;
  if (st->depth < WS_MAX_STACK_DEPTH)
    st->ips[st->depth & (WS_MAX_STACK_DEPTH - 1)] = 0;
  /* Only the scan of a syscall's stack uses the owner. */
  const __u64 walk_owner = check_walk(st, leaf == LEAF_OF_SYSCALL);
  if (leaf == LEAF_OF_SYSCALL)
    add_leaf_callers(regs, st, walk_owner);
  else
    add_fault_caller(regs, st);

  /* FNV-1a over the frames: the key of the stack in `stacks` and `waits`.
   * The frame-pointer walk ends where a frame's return address is no user
   * address: its frame pointer was no frame pointer (a libc function that
   * uses rbp as a register), and what it read were locals, often text. */
  __u64 hash = 0xcbf29ce484222325ULL;
  for (int i = 0; i < WS_MAX_STACK_DEPTH; i++) {
    if (i >= st->depth)
      break;
    const __u64 ip = st->ips[i & (WS_MAX_STACK_DEPTH - 1)];
    if (i > WS_LEAF_SCAN_SLOTS && !in_user_range(ip)) {
      st->depth = i;
      st->ips[i & (WS_MAX_STACK_DEPTH - 1)] = 0;
      st->flags &= ~WS_STACK_TRUNCATED;
      break;
    }
    hash ^= ip;
    hash *= 0x100000001b3ULL;
  }
  if (hash <= WS_STACK_MISSING)
    hash = WS_STACK_MISSING + 1;

  struct ws_stack_key key = {.tgid = tgid, .hash = hash};
  long err = bpf_map_update_elem(&stacks, &key, st, BPF_NOEXIST);
  if (err == 0) {
    struct ws_stack_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
    if (ev) {
      ev->hdr.type = WS_EV_STACK;
      ev->hdr.tgid = tgid;
      ev->hdr.ts_ns = bpf_ktime_get_ns();
      ev->hash = hash;
      /* Forced: user space reads the process's maps when it gets this, and
       * a process that lives less than its poll interval (100 ms) would be
       * gone, its frames unnamed, if this waited for the next poll (the
       * default wakes it only if it had read everything before). New
       * stacks are rare. */
      bpf_ringbuf_submit(ev, BPF_RB_FORCE_WAKEUP);
    } else {
      /* user space still finds the stack in the map at the end */
      count(WS_CNT_RINGBUF_DROPS);
    }
  } else if (err != -17 /* EEXIST */) {
    count(WS_CNT_STACKS_FULL);
    return WS_STACK_MISSING;
  }
  return hash;
}

static __always_inline __u64 store_user_stack(void *ctx, struct pt_regs *regs, __u32 tgid,
                                              enum leaf_callers leaf)
{
  return store_user_stack_of(ctx, 0, regs, tgid, false, leaf);
}

/* ---- syscall and scheduler bodies -------------------------------------- */

/* The thread's CPU time so far, by the scheduler's accounting. `btf`: task
 * is a BTF pointer (tp_btf), else it is read with CO-RE (raw_tp). */
static __always_inline __u64 exec_runtime_of(struct task_struct *task, bool btf)
{
  return WS_READ(btf, task, se.sum_exec_runtime);
}

/* The thread's time spent runnable but not running, so far (0 on kernels
 * without CONFIG_SCHED_INFO, which then count that time as blocked). */
static __always_inline __u64 run_delay_of(struct task_struct *task, bool btf)
{
  if (bpf_core_field_exists(task->sched_info.run_delay))
    return WS_READ(btf, task, sched_info.run_delay);
  return 0;
}

/* task, the current task, leaves the CPU blocked at `now`. */
static __always_inline void note_switch_out(struct task_struct *task, struct inflight *f, __u64 now,
                                            bool btf)
{
  f->switch_out_ns = now;
  f->out_exec_ns = exec_runtime_of(task, btf);
  f->out_delay_ns = run_delay_of(task, btf);
}

/* The length of a block of `task` (the current task) whose switch-in our
 * hook did not see (see settle_unseen_switch_in): the wall time since the
 * switch-out minus what the thread ran and waited runnable since, from the
 * scheduler's own accounting. That is exact at a switch-out, where the
 * scheduler has just updated both; elsewhere the current time slice may not
 * be in the run time yet, and counts as blocked. Counted in
 * WS_CNT_UNSEEN_SWITCH_IN. */
static __always_inline __u64 unseen_block_ns(struct task_struct *task, const struct inflight *f,
                                             bool btf)
{
  const __u64 elapsed = bpf_ktime_get_ns() - f->switch_out_ns;
  const __u64 ran = exec_runtime_of(task, btf) - f->out_exec_ns;
  const __u64 queued = run_delay_of(task, btf) - f->out_delay_ns;
  count(WS_CNT_UNSEEN_SWITCH_IN);
  return elapsed > ran + queued ? elapsed - ran - queued : 0;
}

/* Starts following syscall `nr` of the thread whose entry f is; regs are
 * its user registers (a BTF pointer if `btf`), holding the arguments. */
static __always_inline void begin_syscall(struct inflight *f, __u32 nr, struct pt_regs *regs,
                                          bool btf)
{
  __s32 fd = -1;
  __u8 *flags = bpf_map_lookup_elem(&syscall_flags, &nr);
  if (flags && (*flags & WS_SC_FD_ARG0)) {
    fd = (__s32)WS_SYSCALL_ARG(btf, 1, regs);
  } else if (flags && (*flags & WS_SC_POLL_ONE) && WS_SYSCALL_ARG(btf, 2, regs) == 1) {
    /* struct pollfd starts with its int fd (the thread is current: at
     * sys_enter, and at sched_switch before it leaves the CPU) */
    const void *fds = (const void *)WS_SYSCALL_ARG(btf, 1, regs);
    if (bpf_probe_read_user(&fd, sizeof(fd), fds) != 0)
      fd = -1;
  }
  f->switch_out_ns = 0;
  f->offcpu_ns = 0;
  f->syscall_nr = nr;
  f->fd = fd;
  f->resolved = 0;
  f->counted = 0;
  f->arg0 = WS_SYSCALL_ARG(btf, 1, regs);
  f->active = WS_IN_SYSCALL;
}

/* The thread of entry f, the current task, blocks in a page fault (tp_btf
 * flavour: its registers say it entered the kernel through an exception).
 * The fault ends when the thread runs again, with no hook of its own, so
 * the stack is taken now, before the duration is known: faults always
 * carry one. */
static __always_inline void begin_fault(void *ctx, struct inflight *f, struct pt_regs *regs,
                                        __u32 tgid)
{
  f->switch_out_ns = 0;
  f->offcpu_ns = 0;
  f->syscall_nr = WS_SYSCALL_PAGE_FAULT;
  f->fd = -1;
  __builtin_memset(&f->target, 0, sizeof(f->target));
  f->target_file = 0; /* `target` no longer describes the cached file */
  f->resolved = 1;    /* no object: the faulting address is not in the registers */
  /* No leaf scan: a fault stops the thread at any instruction, mostly in
   * code that keeps its frame pointer, and then the words the scan reads
   * are that function's locals, where stale return addresses of earlier
   * calls sit (pthread_create's, in the workload's page faults after its
   * futex phase). Its user reads also made this program ~7 us per run
   * during faults, against ~0.9 us without it (docs/design.md, "What a
   * stack costs"). */
  f->fault_stack = store_user_stack(ctx, regs, tgid, LEAF_OF_FAULT);
  f->active = WS_IN_FAULT;
}

/* raw_tp flavour only (see the top of this file). */
static __always_inline void waits_sys_enter(struct pt_regs *regs, long id, __u64 pid_tgid)
{
  struct inflight *f = inflight_of(0, (__u32)pid_tgid, false, true);
  if (!f) {
    count(WS_CNT_INFLIGHT_FULL);
    return;
  }
  begin_syscall(f, id, regs, false);
}

/* One wait (or block) of at least wait_event_min_ns, for request
 * attribution. No wakeup: user space drains the ring at least every 100 ms,
 * and a wakeup per wait would cost more than the event itself. */
static __always_inline void send_wait_event(const struct ws_wait_key *key, __u32 tid, __u64 offcpu)
{
  if (offcpu < wait_event_min_ns)
    return;
  struct ws_wait_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
  if (!ev) {
    count(WS_CNT_RINGBUF_DROPS);
    return;
  }
  ev->hdr.type = WS_EV_WAIT;
  ev->hdr.tgid = key->tgid;
  ev->hdr.ts_ns = bpf_ktime_get_ns();
  ev->tid = tid;
  ev->syscall_nr = key->syscall_nr;
  ev->offcpu_ns = offcpu;
  ev->stack_hash = key->stack_hash;
  ev->target = key->target;
  bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
}

/* Adds `offcpu` ns of thread `tid` to the wait `key` in `waits`, and one to
 * its count if `counts`; `so_far` is the syscall's time up to now (its max). */
static __always_inline void add_wait_time(const struct ws_wait_key *key, __u32 tid, __u64 offcpu,
                                          __u64 so_far, bool counts, bool event)
{
  struct ws_wait_val zero = {};
  struct ws_wait_val *v = ws_lookup_or_init(&waits, key, &zero);
  if (!v) {
    count(WS_CNT_AGG_FULL);
    /* The request stage does not need the row: it still gets the wait. */
    if (event)
      send_wait_event(key, tid, offcpu);
    return;
  }
  if (counts) {
    __sync_fetch_and_add(&v->count, 1);
    count(WS_CNT_WAITS);
  }
  __sync_fetch_and_add(&v->total_ns, offcpu);
  if (so_far > v->max_ns)
    v->max_ns = so_far; /* racy max: at worst a concurrent larger value is lost */
  if (event)
    send_wait_event(key, tid, offcpu);
}

/* Adds one wait of thread `tid`, off CPU for `offcpu` ns, to `waits`. */
static __always_inline void add_wait(const struct ws_wait_key *key, __u32 tid, __u64 offcpu)
{
  add_wait_time(key, tid, offcpu, offcpu, true, true);
}

/* Adds the syscall f describes, which was off CPU, to `waits`. */
static __always_inline void aggregate_wait(void *ctx, struct pt_regs *regs,
                                           const struct inflight *f, __u64 pid_tgid)
{
  const __u64 offcpu = f->offcpu_ns;
  __u32 tgid = pid_tgid >> 32;
  struct ws_wait_key key = {};
  key.tgid = tgid;
  key.syscall_nr = f->syscall_nr;
  if (f->resolved)
    key.target = f->target;
  if (offcpu >= min_stack_ns)
    key.stack_hash = store_user_stack(ctx, regs, tgid, LEAF_OF_SYSCALL);
  add_wait(&key, (__u32)pid_tgid, offcpu);
}

/* Fills f->target for the fd of the syscall f describes. Runs once per
 * blocking syscall, when the thread first leaves the CPU, so syscalls that
 * never block never pay for it; a thread blocking on the same open file as
 * last time reuses the previous classification. */
static __always_inline void resolve_target(struct task_struct *task, struct inflight *f, bool btf)
{
  if (f->fd < 0) {
    __builtin_memset(&f->target, 0, sizeof(f->target));
    f->target_file = 0;
    return;
  }
  struct file *file = fd_file(task, f->fd, btf);
  if (!file) {
    __builtin_memset(&f->target, 0, sizeof(f->target));
    f->target.kind = WS_TARGET_BADFD;
    f->target_file = 0;
    return;
  }
  struct inode *inode = BPF_CORE_READ(file, f_inode);
  __u64 ino = BPF_CORE_READ(inode, i_ino);
  __u32 gen = BPF_CORE_READ(inode, i_generation);
  if (f->target_file == (__u64)(unsigned long)file && f->target_ino == ino &&
      f->target_gen == gen)
    return;
  __builtin_memset(&f->target, 0, sizeof(f->target));
  classify_file(file, inode, &f->target);
  f->target_file = (__u64)(unsigned long)file;
  f->target_ino = ino;
  f->target_gen = gen;
}

/* The page fault that f's thread (tgid, tid) blocked in ends: it runs again. */
static __always_inline void end_fault(struct inflight *f, __u32 tgid, __u32 tid)
{
  struct ws_wait_key key = {};
  key.tgid = tgid;
  key.syscall_nr = WS_SYSCALL_PAGE_FAULT;
  key.stack_hash = f->fault_stack;
  f->active = 0;
  add_wait(&key, tid, f->offcpu_ns);
}

/* ---- "sched" flavour: no sys_exit ---------------------------------------- */

/* A wait that reached the stack threshold, waiting for its stack: the task
 * work takes it when the thread returns to user space. One per thread that
 * ever had such a wait (deleted at thread exit). */
struct stack_work {
  struct bpf_task_work tw;
  struct ws_wait_key key; /* no stack yet; the task work fills it in */
  __u64 offcpu_ns;
  __u32 tid;
  __u32 pending;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 16384);
  __type(key, __u32); /* tid */
  __type(value, struct stack_work);
} stack_works SEC(".maps");

/* True if `task` went back to user space since it last left the CPU. */
static __always_inline bool returned_to_user(struct task_struct *task)
{
  return !(task->thread_info.flags & tif_need_fpu_load);
}

/* "sched" flavour: the start-up check of tif_need_fpu_load (user space,
 * agent/loader/probe.cc). x86 sets the flag at every switch-out of a user
 * task and clears it only on the task's way back to user space (and a new
 * task starts with it set), so a user task switching in always has it, while
 * a task blocking for the first time in a syscall usually does not. The
 * bit's number is not in BTF (user space picks it by kernel version): for
 * its first fpu_checks_left context switches the program counts both, and
 * user space refuses the flavour if they do not hold, rather than count
 * every block as a syscall of its own, or none. */
#define WS_PF_USER_WORKER 0x00004000 /* io_uring and vhost workers: no user FPU state */
#define WS_PF_KTHREAD 0x00200000

__u32 fpu_checks_left = 0;
__u64 fpu_checks_in = 0;   /* user tasks switching in ... */
__u64 fpu_in_set = 0;      /* ... with the flag set */
__u64 fpu_checks_out = 0;  /* user tasks blocking ... */
__u64 fpu_out_clear = 0;   /* ... with the flag clear */

static __always_inline bool has_user_fpu(struct task_struct *task)
{
  return !(task->flags & (WS_PF_KTHREAD | WS_PF_USER_WORKER));
}

/* Whether sched_switch and thread exit follow `task` (of process tgid).
 * Never a kernel thread: it makes no syscalls and has no user stack, yet in
 * agent mode (trace_all) the idle task and every kworker would otherwise
 * take the traced path at each of their switches, with a task-storage
 * entry each. */
static __always_inline bool traced_task(struct task_struct *task, __u32 tgid, bool btf)
{
  return is_traced(tgid) && !(WS_READ(btf, task, flags) & WS_PF_KTHREAD);
}

static __always_inline void check_fpu_flag(struct task_struct *prev, struct task_struct *next,
                                           unsigned int prev_state)
{
  __u32 left = *(volatile __u32 *)&fpu_checks_left;
  if (!left)
    return;
  /* Not atomic: CPUs racing here only run a few more checks. */
  fpu_checks_left = left - 1;
  if (prev_state != TASK_RUNNING && has_user_fpu(prev)) {
    __sync_fetch_and_add(&fpu_checks_out, 1);
    if (returned_to_user(prev))
      __sync_fetch_and_add(&fpu_out_clear, 1);
  }
  if (has_user_fpu(next)) {
    __sync_fetch_and_add(&fpu_checks_in, 1);
    if (!returned_to_user(next))
      __sync_fetch_and_add(&fpu_in_set, 1);
  }
}

/* The task work: runs in the thread on its way back to user space, where
 * its user registers and stack are the syscall's. */
static int take_wait_stack(struct bpf_map *map, void *key, void *value)
{
  struct stack_work *w = value;
  if (!w->pending)
    return 0;
  w->pending = 0;
  struct task_struct *task = bpf_get_current_task_btf();
  w->key.stack_hash =
      store_user_stack_of(0, task, (struct pt_regs *)bpf_task_pt_regs(task), w->key.tgid, true,
                          LEAF_OF_SYSCALL);
  struct ws_wait_key k = w->key;
  add_wait_time(&k, w->tid, w->offcpu_ns, w->offcpu_ns, true, false);
  return 0;
}

/* f's syscall, which has just come back from a block of `block` ns, is
 * leaving the row of `key` (WS_STACK_NONE) for one that will get the whole
 * wait: take back what its earlier blocks added there. */
static __always_inline void take_back_no_stack(const struct inflight *f,
                                               const struct ws_wait_key *key, __u64 block)
{
  if (f->counted != WS_COUNTED_NO_STACK)
    return;
  struct ws_wait_val *v = bpf_map_lookup_elem(&waits, key);
  if (v) {
    /* Never below zero: in agent mode user space empties `waits` at each
     * window's end, so the row may be a new one that never held these
     * blocks (they were reported in the last window, the whole wait comes
     * again with its stack). Taking them back from it anyway wrapped its
     * total to ~1.8e19 ns. (Two take-backs racing on one row could still
     * both pass the check.) */
    const __u64 back = f->offcpu_ns - block;
    const __u64 total = v->total_ns;
    if (v->count > 0)
      __sync_fetch_and_add(&v->count, -1);
    __sync_fetch_and_add(&v->total_ns, -(back < total ? back : total));
  }
  count_n(WS_CNT_WAITS, (__u64)-1); /* counted again in the other row */
}

/* f's syscall, off CPU f->offcpu_ns so far, crossed the stack threshold
 * with its last block (`block` ns): from now on its time goes to the task
 * work, which adds the whole wait with its stack. Takes back what earlier
 * blocks added without a stack. False if no task work could be scheduled. */
static __always_inline bool defer_to_stack(struct task_struct *task, struct inflight *f,
                                           const struct ws_wait_key *key, __u32 tid, __u64 block)
{
  struct stack_work init = {};
  struct stack_work *w = ws_lookup_or_init(&stack_works, &tid, &init);
  if (!w || w->pending)
    return false;
  w->key = *key;
  w->offcpu_ns = f->offcpu_ns;
  w->tid = tid;
  w->pending = 1;
  if (bpf_task_work_schedule_resume_impl(task, &w->tw, &stack_works, take_wait_stack, 0)) {
    w->pending = 0;
    return false;
  }
  take_back_no_stack(f, key, block); /* the task work adds the whole wait */
  f->counted = WS_COUNTED_BY_STACK_WORK;
  return true;
}

/* f's thread (tgid, tid), `task`, comes back from a block of `block` ns in
 * the syscall f describes. `may_defer`: a wait past the stack threshold may
 * leave to a task work that takes its stack (only when the thread is on its
 * way back from that block). */
static __always_inline void add_block(struct task_struct *task, struct inflight *f, __u32 tgid,
                                      __u32 tid, __u64 block, bool may_defer)
{
  struct ws_wait_key key = {};
  key.tgid = tgid;
  key.syscall_nr = f->syscall_nr;
  if (f->resolved)
    key.target = f->target;
  if (f->counted == WS_COUNTED_BY_STACK_WORK) {
    struct stack_work *w = bpf_map_lookup_elem(&stack_works, &tid);
    if (w && w->pending) {
      w->offcpu_ns += block; /* the task work runs in this thread, not now */
      send_wait_event(&key, tid, block);
      return;
    }
    if (!may_defer) {
      /* The task work has run, so the syscall is over, and this block's
       * switch-in was found late (settle_unseen_switch_in): its time joins
       * the row the task work counted the wait in, without a second count
       * (which once made 21 of 20 fsyncs). */
      key.stack_hash = w ? w->key.stack_hash : WS_STACK_MISSING;
      add_wait_time(&key, tid, block, f->offcpu_ns, false, false);
      send_wait_event(&key, tid, block);
      return;
    }
    /* Seen coming back after its task work ran, so after a return to user
     * space: this block began a new syscall, one its switch-out took for
     * the old one (same number and first argument, and the FPU flag set
     * by kernel code that used the FPU). It is counted as such. */
    f->counted = 0;
    f->offcpu_ns = block;
  }
  if (f->offcpu_ns >= min_stack_ns && f->counted != WS_COUNTED_MISSING) {
    if (may_defer && defer_to_stack(task, f, &key, tid, block)) {
      send_wait_event(&key, tid, block);
      return;
    }
    /* No task work will take the stack: the thread is not on its way back
     * from this block (a switch-in found late), or the work could not be
     * scheduled. The whole wait goes to the row of waits whose stack is
     * missing, not to the one of waits too short to have one. */
    if (may_defer)
      count(WS_CNT_STACK_ERRORS);
    take_back_no_stack(f, &key, block);
    key.stack_hash = WS_STACK_MISSING;
    add_wait_time(&key, tid, f->offcpu_ns, f->offcpu_ns, true, false);
    send_wait_event(&key, tid, block);
    f->counted = WS_COUNTED_MISSING;
    return;
  }
  if (f->counted == WS_COUNTED_MISSING)
    key.stack_hash = WS_STACK_MISSING;
  add_wait_time(&key, tid, block, f->offcpu_ns, !f->counted, true);
  if (!f->counted)
    f->counted = WS_COUNTED_NO_STACK;
}

/* f's thread (tgid, tid), `task`, is back from a block of `block` ns: the
 * switch-in's work, shared by the switch-in itself and by a switch-in
 * found late (settle_unseen_switch_in). `may_defer`: see add_block. */
static __always_inline void end_block(struct task_struct *task, struct inflight *f, __u32 tgid,
                                      __u32 tid, __u64 block, bool sched, bool may_defer)
{
  f->offcpu_ns += block;
  f->switch_out_ns = 0;
  if (f->active == WS_IN_FAULT)
    end_fault(f, tgid, tid);
  else if (sched && f->active == WS_IN_SYSCALL)
    add_block(task, f, tgid, tid, block, may_defer);
}

/* f's thread, `task` (the current task), blocked at
 * f->switch_out_ns and has run since, but our switch-in code never saw it
 * come back: the kernel reported no switch to it. Some kernels run no
 * sched_switch program for switches away from some tasks (on the
 * Firecracker guests this project runs on, the sandbox's own PID 1 threads;
 * docs/design.md, "A block whose end we did not see"), so the task that
 * runs next is never seen switching in. Left alone, the thread's next block
 * resets switch_out_ns and the wait vanishes without a count. The block is
 * added as the switch-in would have, with its length from unseen_block_ns;
 * no task work takes its stack here (may_defer false): at a switch-out or an
 * exit, the thread is no longer on its way back from that wait. */
static __always_inline void settle_unseen_switch_in(struct task_struct *task, struct inflight *f,
                                                    __u32 tgid, __u32 tid, bool btf, bool sched)
{
  end_block(task, f, tgid, tid, unseen_block_ns(task, f, btf), sched, false);
}

/* tp_btf and raw_tp flavours (the sched flavour has no sys_exit). A block
 * whose switch-in went unseen is settled here; the wait then still gets its
 * stack, from aggregate_wait, since the thread is in that syscall's return. */
static __always_inline void waits_sys_exit(void *ctx, struct pt_regs *regs, __u64 pid_tgid,
                                           bool btf)
{
  struct task_struct *task = btf ? bpf_get_current_task_btf() : 0;
  struct inflight *f = inflight_of(task, (__u32)pid_tgid, btf, false);
  if (!f || f->active != WS_IN_SYSCALL)
    return;
  if (f->switch_out_ns) {
    if (!btf)
      task = (struct task_struct *)bpf_get_current_task();
    settle_unseen_switch_in(task, f, pid_tgid >> 32, (__u32)pid_tgid, btf, false);
  }
  f->active = 0;
  if (f->offcpu_ns) /* 0: never left the CPU, not a wait */
    aggregate_wait(ctx, regs, f, pid_tgid);
}

/* `btf`: prev and next are BTF pointers (tp_btf; see WS_READ). prev is the
 * current task. `sched`: the "sched" flavour (no sys_exit; implies btf). */
static __always_inline void waits_sched_switch(void *ctx, struct task_struct *prev,
                                            struct task_struct *next, unsigned int prev_state,
                                            bool btf, bool sched)
{
  __u64 now = 0;
  if (sched)
    check_fpu_flag(prev, next, prev_state);
  __u32 prev_tgid = WS_READ(btf, prev, tgid);
  const bool prev_traced = traced_task(prev, prev_tgid, btf);
  if (sched && prev_state == TASK_RUNNING && prev_traced) {
    /* Preempted: if it went back to user space since its last block, that
     * syscall is over (a later block with the flag set is another one). */
    struct inflight *f = inflight_of(prev, 0, true, false);
    if (f && f->switch_out_ns)
      settle_unseen_switch_in(prev, f, prev_tgid, prev->pid, true, true);
    if (f && f->active == WS_IN_SYSCALL && returned_to_user(prev))
      f->active = 0;
  }
  if (prev_state != TASK_RUNNING && prev_traced) {
    /* The raw_tp flavour keys a thread's state by tid; read it once. */
    __u32 prev_tid = btf ? 0 : BPF_CORE_READ(prev, pid);
    struct inflight *f = inflight_of(prev, prev_tid, btf, btf);
    if (f && f->switch_out_ns)
      settle_unseen_switch_in(prev, f, prev_tgid, btf ? prev->pid : prev_tid, btf, sched);
    struct pt_regs *regs = btf && f ? (struct pt_regs *)bpf_task_pt_regs(prev) : 0;
    bool begin = f && f->active != WS_IN_SYSCALL;
    if (sched && f && !begin)
      begin = returned_to_user(prev) || WS_SYSCALL_NR(true, regs) != f->syscall_nr ||
              WS_SYSCALL_ARG(true, 1, regs) != f->arg0;
    if (btf && begin) {
      /* The first block of this syscall (tp_btf has no sys_enter), or of a
       * page fault: which. (Only the tp_btf flavour sees faults: the raw_tp
       * fallback uses no BTF-typed task pointers; docs/design.md.) */
      if (ws_in_syscall(regs))
        begin_syscall(f, WS_SYSCALL_NR(true, regs), regs, true);
      else if (ws_in_exception(regs) && !(prev_state & WS_TASK_NOT_IN_FAULT))
        begin_fault(ctx, f, regs, prev_tgid);
      else
        f->active = 0; /* e.g. a signal stop on the way back to user space */
    }
    if (!f && btf)
      count(WS_CNT_INFLIGHT_FULL);
    if (f && f->active) {
      now = bpf_ktime_get_ns();
      note_switch_out(prev, f, now, btf);
      if (!f->resolved) {
        f->resolved = 1;
        resolve_target(prev, f, btf);
      }
    }
  }
  __u32 next_tgid = WS_READ(btf, next, tgid);
  if (traced_task(next, next_tgid, btf)) {
    struct inflight *f = inflight_of(next, btf ? 0 : BPF_CORE_READ(next, pid), btf, false);
    if (f && f->switch_out_ns) {
      if (!now)
        now = bpf_ktime_get_ns();
      end_block(next, f, next_tgid, WS_READ(btf, next, pid), now - f->switch_out_ns, sched, true);
    }
  }
}

static __always_inline void send_proc_event(__u32 type, __u32 tgid, __u32 parent_tgid)
{
  struct ws_proc_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
  if (!ev) {
    count(WS_CNT_RINGBUF_DROPS);
    return;
  }
  ev->hdr.type = type;
  ev->hdr.tgid = tgid;
  ev->hdr.ts_ns = bpf_ktime_get_ns();
  ev->parent_tgid = parent_tgid;
  ev->pad = 0;
  bpf_get_current_comm(ev->comm, sizeof(ev->comm));
  bpf_ringbuf_submit(ev, 0);
}

static __always_inline void waits_fork(struct task_struct *parent, struct task_struct *child)
{
  __u32 ptgid = BPF_CORE_READ(parent, tgid);
  __u32 ctgid = BPF_CORE_READ(child, tgid);
  if (ptgid == ctgid || !is_traced(ptgid) || trace_all)
    return; /* a new thread, or not ours */
  if (!set_traced(ctgid, true))
    count(WS_CNT_TGIDS_FULL);
  send_proc_event(WS_EV_FORK, ctgid, ptgid);
}

static __always_inline void waits_exec(struct task_struct *task)
{
  __u32 tgid = BPF_CORE_READ(task, tgid);
  if (is_traced(tgid))
    send_proc_event(WS_EV_EXEC, tgid, 0);
}

/* Thread (tgid, tid), `task`, of a traced process exits. `btf`: task storage
 * frees the thread's entry with the task itself. */
static __always_inline void waits_thread_exit(struct task_struct *task, __u32 tgid, __u32 tid,
                                              bool btf)
{
  if (!btf)
    bpf_map_delete_elem(&inflight, &tid);
  struct inflight *f = btf ? inflight_of(task, 0, true, false) : 0;
  if (f && f->switch_out_ns)
    settle_unseen_switch_in(task, f, tgid, tid, true, true);
  struct stack_work *w = btf ? bpf_map_lookup_elem(&stack_works, &tid) : 0;
  if (w) {
    /* Exits before its task work ran (killed in the syscall): the wait
     * still counts, without its stack. */
    if (w->pending) {
      struct ws_wait_key key = w->key;
      key.stack_hash = WS_STACK_MISSING;
      add_wait_time(&key, tid, w->offcpu_ns, w->offcpu_ns, true, false);
    }
    bpf_map_delete_elem(&stack_works, &tid);
  }
}

/* The last thread of traced process tgid, `task`, has exited: user space
 * hears of it, and the pid, which someone else may get next, is no longer
 * traced. */
static __always_inline void waits_process_exit(struct task_struct *task, __u32 tgid)
{
  if (BPF_CORE_READ(task, signal, live.counter) != 0)
    return; /* other threads still run */
  if (!trace_all)
    set_traced(tgid, false);
  send_proc_event(WS_EV_EXIT, tgid, 0);
}

#endif /* WAITSCOPE_WAITS_BPF_H */
