/* Structs shared by bpf/waits.bpf.h and user space (agent/loader, agent/aggregate).
 *
 * This header is the only description of the kernel <-> user layout: user
 * space must use these types (never a hand-copied struct) and static_asserts
 * their sizes in agent/loader/abi_check.cc. Fixed-width types and explicit
 * padding only. Bump WS_WAITS_ABI_VERSION on any layout change.
 */
#ifndef WAITSCOPE_BPF_WAITS_H
#define WAITSCOPE_BPF_WAITS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "waitscope/bpf/traced.h"

#define WS_WAITS_ABI_VERSION 3

#define WS_MAX_STACK_DEPTH 64   /* user frames kept per wait stack */
#define WS_PATH_MAX_DEPTH 16    /* path components sent for a file name */
#define WS_PATH_COMPONENT_LEN 64
#define WS_SYSCALL_TABLE_SIZE 512
#define WS_COMM_LEN 16

/* Per-syscall flags, filled by user space into the `syscall_flags` array
 * (index = syscall number of the running architecture). */
#define WS_SC_FD_ARG0 0x1 /* argument 0 is a file descriptor: classify its target */
/* (struct pollfd *fds, nfds, ...): poll and ppoll. With nfds == 1 (how
 * Python, libpq and most clients wait on one socket with a timeout) the wait
 * is on fds[0].fd: classify that. */
#define WS_SC_POLL_ONE 0x2

/* ws_wait_key.syscall_nr of a thread blocked in a page fault (in no
 * syscall): reading the page from disk or swap, or waiting for the mapping's
 * lock. Above every real syscall number. */
#define WS_SYSCALL_PAGE_FAULT 0xffffu

enum ws_target_kind {
  WS_TARGET_NONE = 0,    /* the syscall has no object (futex, nanosleep, ...) */
  WS_TARGET_FILE = 1,    /* regular file or directory: dev, ino; name by WS_EV_NAME */
  WS_TARGET_BLOCK = 2,   /* block device: dev, ino; name by WS_EV_NAME */
  WS_TARGET_CHAR = 3,    /* character device (tty, /dev/null): name by WS_EV_NAME */
  WS_TARGET_INET = 4,    /* connected TCP/UDP socket: family, addr, port = peer */
  WS_TARGET_LISTEN = 5,  /* socket without a peer (listening, unbound): local addr, port */
  WS_TARGET_UNIX = 6,    /* AF_UNIX socket: ino = id of its address; name by WS_EV_NAME */
  WS_TARGET_PIPE = 7,    /* pipe or FIFO: ino */
  WS_TARGET_ANON = 8,    /* anon inode (eventfd, epoll, timerfd...): addr = its name */
  WS_TARGET_SOCKET = 9,  /* other socket families (netlink, packet): family */
  WS_TARGET_BADFD = 10,  /* fd not open at the time the thread blocked */
};

struct ws_target {
  __u8 kind;    /* enum ws_target_kind */
  __u8 pad0;
  __u16 family; /* AF_* for sockets */
  __u16 port;   /* host byte order */
  __u16 pad1;
  __u32 dev;
  /* Files and devices: the inode's generation (0 for other kinds). A file
   * system may reuse a deleted inode's number at once (ext4 gives the next
   * new file the same one), so (dev, ino) alone would merge a deleted
   * file's waits and name with its successor's. */
  __u32 gen;
  __u64 ino;
  __u8 addr[16]; /* IPv4 in the first 4 bytes; anon inode name for WS_TARGET_ANON */
};

/* ws_wait_key.stack_hash values that are no stack's hash. */
#define WS_STACK_NONE 0    /* the wait was shorter than the stack threshold */
#define WS_STACK_MISSING 1 /* it was not, but it has no stack: the stack could not be
                            * read or stored (WS_CNT_STACK_ERRORS, WS_CNT_STACKS_FULL),
                            * or its end was found late (WS_CNT_UNSEEN_SWITCH_IN) */

struct ws_wait_key {
  __u32 tgid;
  __u32 syscall_nr;
  __u64 stack_hash; /* the stack's hash, or WS_STACK_NONE / WS_STACK_MISSING */
  struct ws_target target;
};

struct ws_wait_val {
  __u64 count;
  __u64 total_ns;
  __u64 max_ns;
};

struct ws_stack_key {
  __u32 tgid;
  __u32 pad;
  __u64 hash;
};

struct ws_stack {
  __u32 depth;
  __u32 flags; /* WS_STACK_* */
  /* Leaf first: ips[0] is where the thread entered the kernel;
   * ips[1..WS_LEAF_SCAN_SLOTS] callers found by scanning the top of the user
   * stack (frames without frame pointers), 0 where unused: skip zeros;
   * ips[WS_LEAF_SCAN_SLOTS + 1 ..] the frame-pointer walk. */
  __u64 ips[WS_MAX_STACK_DEPTH];
};
#define WS_STACK_LEAF_CALLER_ADDED 0x1 /* a scanned caller is present */
#define WS_STACK_TRUNCATED 0x2         /* the walk filled ips: outer frames are cut */
#define WS_LEAF_SCAN_SLOTS 4           /* callers the scan may add */
#define WS_LEAF_SCAN_WORDS 64          /* user stack words it looks at */

/* Name of a target, sent once per (kind, dev, ino, gen) the first time it is
 * seen. */
struct ws_name_key {
  __u32 kind;
  __u32 dev;
  __u64 ino;
  __u32 gen; /* as in ws_target */
  __u32 pad;
};

enum ws_event_type {
  WS_EV_STACK = 1, /* a new (tgid, stack) was stored in the `stacks` map */
  WS_EV_NAME = 2,  /* the path of a file / unix socket */
  WS_EV_FORK = 3,  /* a traced process created a new process (now traced too) */
  WS_EV_EXEC = 4,  /* a traced process called execve */
  WS_EV_EXIT = 5,  /* a traced process exited (its last thread) */
  WS_EV_WAIT = 6,  /* one wait of at least wait_event_min_ns (request attribution) */
};

struct ws_event_header {
  __u32 type; /* enum ws_event_type */
  __u32 tgid;
  __u64 ts_ns;
};

struct ws_stack_event {
  struct ws_event_header hdr;
  __u64 hash;
};

struct ws_name_event {
  struct ws_event_header hdr;
  struct ws_name_key key;
  __u32 depth; /* components used, leaf first */
  __u32 flags; /* WS_NAME_* */
  char components[WS_PATH_MAX_DEPTH][WS_PATH_COMPONENT_LEN];
};
#define WS_NAME_TRUNCATED 0x1 /* deeper than WS_PATH_MAX_DEPTH: the root part is missing */
#define WS_NAME_ABSTRACT 0x2  /* abstract unix socket name */

/* One blocking syscall, for attributing waits to the request a thread was
 * serving. hdr.ts_ns is the syscall's exit; the blocked interval ends there. */
struct ws_wait_event {
  struct ws_event_header hdr;
  __u32 tid;
  __u32 syscall_nr;
  __u64 offcpu_ns;
  __u64 stack_hash; /* as in ws_wait_key */
  struct ws_target target;
};

struct ws_proc_event {
  struct ws_event_header hdr;
  __u32 parent_tgid;
  __u32 pad;
  char comm[WS_COMM_LEN];
};

/* Indices of the per-CPU `counters` array: everything that is lost or
 * refused in the kernel is counted, and reported by user space. */
enum ws_counter {
  WS_CNT_WAITS = 0,         /* blocking syscalls aggregated */
  WS_CNT_RINGBUF_DROPS = 1, /* ring buffer full: an event was not sent */
  WS_CNT_AGG_FULL = 2,      /* `waits` map full: a wait was not counted */
  WS_CNT_INFLIGHT_FULL = 3, /* `inflight` map full: a syscall was not followed */
  WS_CNT_STACKS_FULL = 4,   /* `stacks` map full: a wait was counted without its stack */
  WS_CNT_STACK_ERRORS = 5,  /* the user stack could not be read */
  WS_CNT_TGIDS_FULL = 6,    /* a child process could not be added to the traced set */
  /* A traced thread ran again after a block without our sched_switch
   * program seeing it come back: the block was measured at the thread's
   * next switch-out or exit instead, without a stack. */
  WS_CNT_UNSEEN_SWITCH_IN = 7,
  WS_CNT_MAX = 8,
};

#endif /* WAITSCOPE_BPF_WAITS_H */
