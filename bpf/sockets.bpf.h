/* The sockets family: connections of traced processes and the bytes they
 * carry. Included by bpf/waitscope.bpf.c, which owns the hooks.
 *
 * Hooks (tracepoints only):
 *   sys_exit               connect, accept, close, dup2 and the data syscalls
 *                          (read, write, send and recv families, vectored and msg forms):
 *                          open/close events, and a bounded copy of each
 *                          buffer with its stream position. The syscall's
 *                          number and arguments are read from the user
 *                          registers, which still hold them at exit, so no
 *                          sys_enter program is needed: attaching one costs
 *                          every syscall on the machine a second dispatch
 *                          (~46 ns here, tools/bench/hook_floor.py).
 *   inet_sock_set_state    SYN_SENT -> ESTABLISHED: connect latency; a close
 *                          starting: the socket's final TCP stats
 *
 * The "sched" flavour (see waits.bpf.h) has no sys_exit program; there:
 *   sock_send_length,      a socket send or receive returned: the same copy,
 *   sock_recv_length       with fd and buffer from the registers of the
 *                          syscall it runs in (sendfile, splice and io_uring
 *                          are not decoded: no buffer in the registers); an
 *                          mmsg call's messages one by one (mmsg_cursors)
 *   inet_sock_set_state    SYN_SENT inside connect(): the socket is a
 *                          client's; a close starting inside close()/dup2():
 *                          the connection ends
 * Connections open at their first data (then the local port is known; the
 * role is CLIENT for a socket connect()ed while traced, else left to user
 * space). A data event whose socket (cookie) is not the entry's ends the
 * entry: the fd was reused. So UNIX connections, and TCP ones reset before
 * the close, end when their fd is reused or the process exits.
 *
 * Connection identity is (tgid, fd) plus a conn_id stamped when the entry is
 * created, so a reused fd never mixes two connections' bytes. Sockets that
 * were open before tracing began are adopted at their first data syscall
 * (role unknown). The hooks call the sockets_* bodies only for traced
 * threads, and only when user space enabled the family.
 */
#ifndef WAITSCOPE_SOCKETS_BPF_H
#define WAITSCOPE_SOCKETS_BPF_H

#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "core_fixes.bpf.h"
#include "maps.bpf.h"
#include "task_work.bpf.h"
#include "traced.bpf.h"
#include "waitscope/bpf/sockets.h"

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_LAST_ACK 9
#define EINPROGRESS 115
#define IPPROTO_TCP 6
#define MSG_PEEK 2
#define WS_MAX_MMSG 1024 /* UIO_MAXIOV: the most messages one sendmmsg/recvmmsg moves */

const volatile __u32 capture_bytes = 4096; /* per syscall, <= WS_MAX_CAPTURE */
const volatile __u8 sockets_enabled = 0;   /* wire tracing on */
const volatile __u8 ssl_enabled = 0;       /* the openssl family's uprobes are loaded */

__u64 next_conn_id = 1;
/* Bumped by user space after each conn_ctl update (see ws_conn_ctl). */
__u64 conn_ctl_gen = 0;

/* Per-connection state, keyed by (tgid, fd); kernel only (user space posts
 * flags through conn_ctl). Updated in place by every data syscall. */
struct ws_conn_state {
  __u64 conn_id;
  __u64 sock;
  __u64 sent;
  __u64 received;
  __u64 ctl_gen;  /* conn_ctl_gen when conn_ctl was last looked at for this connection */
  /* The process's self_exec_id when the entry was made: exec() closes
   * close-on-exec sockets with no close syscall, and a later file on the same
   * fd must not be read as this connection (see current_exec_id). */
  __u64 exec_id;
  __u32 flags;    /* WS_CONN_* */
  __u32 stats_ms; /* when TCP stats last rode along with data (ktime >> 20) */
  /* "sched" flavour: the socket's cookie, unique for the kernel's uptime.
   * The struct sock's address is not: a socket freed and allocated again
   * for the next connection on the same fd often gets the same one. */
  __u64 cookie;
};

/* A data syscall that returned, as read from its registers at exit. */
struct sock_call {
  __u64 arg1; /* buffer, iovec array or msghdr */
  __u64 arg2; /* length or iovec count */
  __s32 fd;
  __u8 kind;    /* enum ws_sock_syscall; an mmsg call's messages come as msg calls */
  __u8 no_copy; /* count the bytes, copy none (their buffer is not known) */
  __u8 pad[2];
  __u64 ssl; /* the SSL object of the OpenSSL call the thread is inside, or 0 */
};

/* Defined by openssl.bpf.h: a data syscall on a followed connection ran
 * inside an OpenSSL call on `ssl`. */
static __always_inline void openssl_on_socket_data(__u32 tgid, __u64 ssl,
                                                   const struct ws_conn_state *st, int fd);

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WS_SYSCALL_TABLE_SIZE);
  __type(key, __u32);
  __type(value, __u8);
} sock_syscalls SEC(".maps");

/* The SSL object of the OpenSSL call each thread is inside, 0 between calls
 * (openssl.bpf.h sets and clears it): the data syscalls a thread makes
 * inside SSL_read/SSL_write tie that object to their connection. Looked up
 * only when the openssl family is loaded. LRU: threads that exit age out. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);   /* tid */
  __type(value, __u64); /* SSL * */
} ssl_of_thread SEC(".maps");

/* The processes that have entered an OpenSSL call (one bit per tgid, set by
 * openssl.bpf.h): only their data syscalls look up ssl_of_thread. Many
 * programs map libssl and never call it on the sockets we follow (Redis and
 * PostgreSQL clients in plaintext); in such a client the lookup was ~18 ns
 * of a small event's ~350 (BENCHMARKS.md, "Lighter socket events"). A bit
 * left by an exited process only costs its pid's next owner the lookup. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WS_TGID_BITMAP_WORDS);
  __type(key, __u32);
  __type(value, __u64);
} ssl_tgids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ws_conn_key);
  __type(value, struct ws_conn_state);
} conns SEC(".maps");

/* Flags user space posted for a connection; written by user space only,
 * deleted here when the connection closes. LRU: entries of processes that
 * exited without closing age out. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ws_conn_key);
  __type(value, struct ws_conn_ctl);
} conn_ctl SEC(".maps");

/* Applies the flags user space posted for st's connection, if any were
 * posted since st last looked: a connection pays one load and compare per
 * event, and a map lookup only after user space posted something. */
static __always_inline void apply_conn_ctl(const struct ws_conn_key *key,
                                           struct ws_conn_state *st)
{
  __u64 gen = *(volatile __u64 *)&conn_ctl_gen;
  if (st->ctl_gen == gen)
    return;
  st->ctl_gen = gen;
  struct ws_conn_ctl *c = bpf_map_lookup_elem(&conn_ctl, key);
  if (c && c->conn_id == st->conn_id)
    st->flags |= c->flags;
}

/* Descriptors of traced processes that are known not to be followed
 * sockets (files, pipes, UDP): their reads and writes skip the fd-table
 * walk. Cleared on close/dup2 and when connect/accept makes the fd a
 * socket. LRU: a stale entry can only hide an fd reused without a close
 * we saw (close_range, exec), and ages out. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ws_conn_key);
  __type(value, __u8);
} not_sockets SEC(".maps");

/* RSTs sent and received on the sockets of followed connections, keyed by
 * struct sock *: the reset tracepoints give only the socket. Also the TCP
 * stats taken when the socket starts closing: the close event is sent after
 * close() returned, when the socket may be freed already. */
struct sock_resets {
  __u32 sent;
  __u32 received;
  __u32 srtt_us;
  __u32 retransmits;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, struct sock_resets);
} resets SEC(".maps");

struct connect_start {
  __u64 ts_ns;
  __u32 tgid;
  __u32 pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64); /* struct sock * */
  __type(value, struct connect_start);
} connecting SEC(".maps");

/* "sched" flavour: cookies of the sockets traced processes connect()ed whose
 * connection has not opened yet (it opens at the first data). */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64); /* socket cookie */
  __type(value, __u8);
} client_socks SEC(".maps");

/* The event under construction, with slack after data[] so that a copy at
 * any offset < WS_MAX_CAPTURE of any size <= WS_MAX_CAPTURE stays inside the
 * value: the verifier bounds offset and size separately, not their sum. */
struct data_scratch {
  struct ws_sock_data_event ev;
  char slack[2 * WS_MAX_CAPTURE];
  __u32 unchecked; /* data events sent since the ring's fill was read */
};

/* One slot per CPU, indexed by the CPU id: a PERCPU_ARRAY value may not
 * exceed 32 KiB. Tracepoint programs do not migrate while they run, so the
 * slot is ours. User space sets max_entries to the number of possible CPUs. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct data_scratch);
} data_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WS_SCNT_MAX);
  __type(key, __u32);
  __type(value, __u64);
} sock_counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 8 << 20); /* WS_SOCK_RING_SIZE */
} sock_events SEC(".maps");

/* Waking user space for every event costs the traced process an
 * inter-processor interrupt per read/write (measured: ~5 us each in a VM,
 * 40-50 % of a Redis client's throughput). Events are sent without a wakeup;
 * user space drains the ring on a short timer, and is woken only when the
 * ring is a quarter full so it never overflows between timer ticks. */
#define WS_SOCK_RING_SIZE (8 << 20)

static __always_inline __u64 sock_wakeup_flag(void)
{
  return bpf_ringbuf_query(&sock_events, BPF_RB_AVAIL_DATA) > WS_SOCK_RING_SIZE / 4
             ? BPF_RB_FORCE_WAKEUP
             : BPF_RB_NO_WAKEUP;
}

/* The wake-up flag for a data event sent from this CPU's scratch slot. The
 * ring's fill level is read at every WS_FILL_CHECK_EVERY-th data event of a
 * CPU only: reading it was ~22 ns per event in the client (BENCHMARKS.md,
 * "Lighter socket events"). Between two reads a CPU sends at most 15 events
 * of at most WS_MAX_CAPTURE bytes, far below the quarter of the ring that
 * forces a wake-up; user space drains the ring on its timer in any case. */
#define WS_FILL_CHECK_EVERY 16

static __always_inline __u64 data_wakeup_flag(struct data_scratch *scratch)
{
  if (++scratch->unchecked < WS_FILL_CHECK_EVERY)
    return BPF_RB_NO_WAKEUP;
  scratch->unchecked = 0;
  return sock_wakeup_flag();
}

static __always_inline void scount(__u32 idx, __u64 n)
{
  __u64 *c = bpf_map_lookup_elem(&sock_counters, &idx);
  if (c)
    *c += n;
}

/* True for the sockets whose bytes we follow. */
static __always_inline bool followed_sock(struct sock *sk)
{
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (family != AF_INET && family != AF_INET6 && family != AF_UNIX)
    return false;
  /* Stream sockets only: datagrams have no byte stream to reassemble. */
  return BPF_CORE_READ(sk, sk_type) == 1 /* SOCK_STREAM */;
}

/* The struct sock behind fd of the current task, or NULL if fd is not a
 * socket of a family we follow. */
static __always_inline struct sock *fd_to_sock(int fd)
{
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
  unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
  if (fd < 0 || (unsigned int)fd >= max_fds)
    return 0;
  struct file **fds = BPF_CORE_READ(fdt, fd);
  struct file *file = 0;
  bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
  if (!file)
    return 0;
  __u16 mode = BPF_CORE_READ(file, f_inode, i_mode);
  if ((mode & S_IFMT) != S_IFSOCK)
    return 0;
  struct socket *sock = BPF_CORE_READ(file, private_data);
  struct sock *sk = BPF_CORE_READ(sock, sk);
  return sk && followed_sock(sk) ? sk : 0;
}

static __always_inline void fill_addresses(struct sock *sk, struct ws_sock_open_event *ev)
{
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  ev->family = family;
  if (family == AF_INET) {
    __u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    __u32 p = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    __builtin_memcpy(ev->local_addr, &l, sizeof(l));
    __builtin_memcpy(ev->peer_addr, &p, sizeof(p));
  } else if (family == AF_INET6) {
    struct in6_addr l, p;
    BPF_CORE_READ_INTO(&l, sk, __sk_common.skc_v6_rcv_saddr);
    BPF_CORE_READ_INTO(&p, sk, __sk_common.skc_v6_daddr);
    __builtin_memcpy(ev->local_addr, &l, sizeof(l));
    __builtin_memcpy(ev->peer_addr, &p, sizeof(p));
  }
  if (family != AF_UNIX) {
    ev->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
    ev->peer_port = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
    return;
  }
  struct unix_address *ua = ws_unix_address(sk);
  if (!ua)
    return;
  bool abstract = false;
  const char *path = ws_unix_path(ua, &abstract);
  if (abstract)
    ev->flags |= WS_OPEN_UNIX_ABSTRACT;
  bpf_probe_read_kernel_str(ev->unix_path, sizeof(ev->unix_path), path);
}

static __always_inline void tcp_stats(struct sock *sk, __u32 *srtt_us, __u32 *retrans)
{
  if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP ||
      BPF_CORE_READ(sk, __sk_common.skc_family) == AF_UNIX)
    return;
  struct tcp_sock *tp = (struct tcp_sock *)sk;
  *srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3; /* stored << 3 */
  *retrans = BPF_CORE_READ(tp, total_retrans);
}

/* Data events carry the connection's latest RTT and retransmit count, so
 * connections still open when the recording ends (pools) have them too; but
 * at most every WS_TCP_STATS_EVERY_MS per connection: the four kernel reads
 * per event cost more than the rest of a small event's bookkeeping. 0 in an
 * event means "not sampled" (user space keeps the last sample; the close
 * event always carries fresh ones). */
#define WS_TCP_STATS_EVERY_MS 100

static __always_inline void sample_tcp_stats(struct ws_conn_state *st, __u64 now_ns,
                                             __u32 *srtt_us, __u32 *retrans)
{
  __u32 now_ms = now_ns >> 20; /* ~1.05 ms units; wraps after ~52 days, harmlessly */
  if (st->stats_ms && now_ms - st->stats_ms < WS_TCP_STATS_EVERY_MS)
    return;
  st->stats_ms = now_ms ? now_ms : 1;
  tcp_stats((struct sock *)(unsigned long)st->sock, srtt_us, retrans);
}

/* The current process's exec generation: the kernel increments the task's
 * self_exec_id at every exec, and new threads copy it. `btf`: tp_btf, a
 * direct load; raw_tp reads it with the helper. */
static __always_inline __u64 current_exec_id(bool btf)
{
  struct task_struct *task =
      btf ? bpf_get_current_task_btf() : (struct task_struct *)bpf_get_current_task();
  return WS_READ(btf, task, self_exec_id);
}

/* Ends the connection whose entry `st` is (at `key`): announces its close
 * and removes its entries. st->sock is not read: after close(), or for an
 * entry found stale, the socket may be gone (its final TCP stats were kept
 * by sockets_set_state). */
static __always_inline void end_conn(__u32 tgid, struct ws_conn_key *key,
                                     struct ws_conn_state *st)
{
  struct ws_sock_close_event *ev = bpf_ringbuf_reserve(&sock_events, sizeof(*ev), 0);
  if (ev) {
    ev->hdr.type = WS_EV_SOCK_CLOSE;
    ev->hdr.tgid = tgid;
    ev->hdr.ts_ns = bpf_ktime_get_ns();
    ev->conn_id = st->conn_id;
    ev->bytes_sent = st->sent;
    ev->bytes_received = st->received;
    ev->srtt_us = 0;
    ev->retransmits = 0;
    ev->resets_sent = 0;
    ev->resets_received = 0;
    struct sock_resets *r = bpf_map_lookup_elem(&resets, &st->sock);
    if (r) {
      ev->resets_sent = r->sent;
      ev->resets_received = r->received;
      ev->srtt_us = r->srtt_us;
      ev->retransmits = r->retransmits;
    }
    bpf_ringbuf_submit(ev, sock_wakeup_flag());
  } else {
    scount(WS_SCNT_RINGBUF_DROPS, 1);
  }
  bpf_map_delete_elem(&resets, &st->sock);
  bpf_map_delete_elem(&conns, key);
  bpf_map_delete_elem(&conn_ctl, key);
}

/* Creates the connection entry of (tgid, fd) and announces it. */
static __always_inline struct ws_conn_state *open_conn(__u32 tgid, int fd, struct sock *sk,
                                                       __u8 role, __u64 exec_id, __u64 cookie)
{
  struct ws_conn_key key = {.tgid = tgid, .fd = fd};
  /* An entry still here is a connection whose close we did not see (exec,
   * close_range): end it, so user space does not keep it open. */
  struct ws_conn_state *old = bpf_map_lookup_elem(&conns, &key);
  if (old)
    end_conn(tgid, &key, old);
  struct ws_conn_state st = {};
  st.exec_id = exec_id;
  st.cookie = cookie;
  st.conn_id = __sync_fetch_and_add(&next_conn_id, 1);
  st.sock = (__u64)(unsigned long)sk;
  /* Nothing can be posted for a conn_id user space has not seen yet. */
  st.ctl_gen = *(volatile __u64 *)&conn_ctl_gen;
  struct sock_resets none = {};
  bpf_map_update_elem(&resets, &st.sock, &none, BPF_NOEXIST);
  if (bpf_map_update_elem(&conns, &key, &st, BPF_ANY)) {
    scount(WS_SCNT_CONNS_FULL, 1);
    return 0;
  }
  struct ws_sock_open_event *ev = bpf_ringbuf_reserve(&sock_events, sizeof(*ev), 0);
  if (ev) {
    __builtin_memset(ev, 0, sizeof(*ev));
    ev->hdr.type = WS_EV_SOCK_OPEN;
    ev->hdr.tgid = tgid;
    ev->hdr.ts_ns = bpf_ktime_get_ns();
    ev->conn_id = st.conn_id;
    ev->fd = fd;
    ev->role = role;
    ev->sock = st.sock;
    fill_addresses(sk, ev);
    bpf_ringbuf_submit(ev, sock_wakeup_flag());
  } else {
    scount(WS_SCNT_RINGBUF_DROPS, 1);
  }
  return bpf_map_lookup_elem(&conns, &key);
}

/* fd of tgid was closed (close, or dup2 over it); called at the syscall's
 * exit, when the fd number is free again or already refers to something
 * else. */
static __always_inline void close_conn(__u32 tgid, int fd)
{
  struct ws_conn_key key = {.tgid = tgid, .fd = fd};
  bpf_map_delete_elem(&not_sockets, &key);
  struct ws_conn_state *st = bpf_map_lookup_elem(&conns, &key);
  if (!st)
    return;
  /* Another thread may have got the same fd number for a new connection
   * between the close and this exit hook, and its connect/accept (or first
   * read) made the entry: the fd refers to the entry's socket, so the entry
   * is not the closed connection's. (dup2 of a socket's fd onto a dup of
   * itself lands here too: still the same connection.) */
  if (st->sock == (__u64)(unsigned long)fd_to_sock(fd))
    return;
  end_conn(tgid, &key, st);
}

/* Copies up to capture_bytes - off bytes of one user buffer into
 * ev->data[off..]. Returns the bytes copied. */
static __always_inline __u32 copy_chunk(struct ws_sock_data_event *ev, __u32 off, const void *src,
                                        __u64 len)
{
  __u32 limit = capture_bytes < WS_MAX_CAPTURE ? capture_bytes : WS_MAX_CAPTURE;
  if (off >= limit)
    return 0;
  __u64 n = len < limit - off ? len : limit - off;
  off &= WS_MAX_CAPTURE - 1;
  n &= 2 * WS_MAX_CAPTURE - 1; /* n <= WS_MAX_CAPTURE already; this tells the verifier */
  if (n == 0 || bpf_probe_read_user(&ev->data[off], n, src))
    return 0;
  return n;
}

struct iov_walk {
  struct ws_sock_data_event *ev;
  const struct iovec *iov;
  __u64 iovcnt;
  __u64 left; /* bytes the syscall moved that are not accounted yet */
  __u32 off;
};

static long copy_iov_step(__u32 i, void *data)
{
  struct iov_walk *w = data;
  if (i >= w->iovcnt || w->left == 0)
    return 1;
  struct iovec v;
  if (bpf_probe_read_user(&v, sizeof(v), &w->iov[i]))
    return 1;
  __u64 len = v.iov_len < w->left ? v.iov_len : w->left;
  w->left -= len;
  __u32 got = copy_chunk(w->ev, w->off, v.iov_base, len);
  w->off += got;
  return got < len ? 1 : 0; /* capture buffer full */
}

static __always_inline __u32 copy_iov(struct ws_sock_data_event *ev, const struct iovec *iov,
                                      __u64 iovcnt, __u64 total)
{
  struct iov_walk w = {.ev = ev, .iov = iov, .iovcnt = iovcnt, .left = total, .off = 0};
  bpf_loop(WS_MAX_IOV, copy_iov_step, &w, 0);
  return w.off;
}

/* `sk`: the socket the "sched" flavour's tracepoint names, with its cookie
 * (NULL at sys_exit, where the fd's socket is looked up only for a new
 * entry). */
static __always_inline void on_data(const struct sock_call *a, __u32 tgid, __u32 tid, long ret,
                                    __u64 exec_id, struct sock *sk, __u64 cookie)
{
  struct ws_conn_key key = {.tgid = tgid, .fd = a->fd};
  struct ws_conn_state *st = bpf_map_lookup_elem(&conns, &key);
  if (sk) {
    if (!st || st->cookie != cookie) {
      if (!followed_sock(sk))
        return;
      /* A new connection on this fd, or the fd was closed and reused,
       * unseen: but only if the fd in the registers really is sk's. It is
       * not when no syscall on sk is running (io_uring's workers, a task
       * work on the way out of another syscall): those bytes have no place
       * in any stream we follow, and are counted as not copied. */
      if (fd_to_sock(a->fd) != sk) {
        scount(WS_SCNT_BYTES_TRUNCATED, ret);
        return;
      }
      if (st) {
        end_conn(tgid, &key, st);
        st = 0;
      }
      __u8 role = WS_ROLE_UNKNOWN;
      if (bpf_map_lookup_elem(&client_socks, &cookie)) {
        role = WS_ROLE_CLIENT;
        bpf_map_delete_elem(&client_socks, &cookie);
      }
      st = open_conn(tgid, a->fd, sk, role, exec_id, cookie);
      if (!st)
        return;
    }
  } else if (st && st->exec_id != exec_id) {
    /* Made before an exec: the fd may now hold another file. The same
     * socket kept across the exec stays the same connection. */
    if (fd_to_sock(a->fd) == (struct sock *)(unsigned long)st->sock) {
      st->exec_id = exec_id;
    } else {
      end_conn(tgid, &key, st);
      st = 0;
    }
  }
  if (!st) {
    struct sock *fd_sk = fd_to_sock(a->fd);
    if (!fd_sk) {
      __u8 one = 1; /* a file, a pipe, or a socket we do not follow */
      bpf_map_update_elem(&not_sockets, &key, &one, BPF_ANY);
      return;
    }
    st = open_conn(tgid, a->fd, fd_sk, WS_ROLE_UNKNOWN, exec_id, 0);
    if (!st)
      return;
  }
  apply_conn_ctl(&key, st);
  if (a->ssl)
    openssl_on_socket_data(tgid, a->ssl, st, a->fd);
  bool egress = a->kind == WS_SOCK_SEND || a->kind == WS_SOCK_SENDV || a->kind == WS_SOCK_SENDMSG;
  __u64 pos = egress ? st->sent : st->received;
  if (egress)
    st->sent += ret;
  else
    st->received += ret;
  if (st->flags & WS_CONN_NO_CAPTURE)
    return;

  __u32 cpu = bpf_get_smp_processor_id();
  struct data_scratch *scratch = bpf_map_lookup_elem(&data_scratch, &cpu);
  if (!scratch)
    return;
  struct ws_sock_data_event *ev = &scratch->ev;
  ev->hdr.type = WS_EV_SOCK_DATA;
  ev->hdr.tgid = tgid;
  ev->hdr.ts_ns = bpf_ktime_get_ns();
  ev->conn_id = st->conn_id;
  ev->stream_pos = pos;
  ev->syscall_ns = 0; /* not measured: no sys_enter hook (see the top of this file) */
  ev->tid = tid;
  ev->len = ret;
  ev->direction = egress ? WS_DIR_EGRESS : WS_DIR_INGRESS;
  ev->srtt_us = 0;
  ev->retransmits = 0;
  sample_tcp_stats(st, ev->hdr.ts_ns, &ev->srtt_us, &ev->retransmits);

  __u32 captured = 0;
  switch (a->no_copy ? WS_SOCK_NONE : a->kind) {
    case WS_SOCK_SEND:
    case WS_SOCK_RECV:
      captured = copy_chunk(ev, 0, (const void *)a->arg1, ret);
      break;
    case WS_SOCK_SENDV:
    case WS_SOCK_RECVV:
      captured = copy_iov(ev, (const struct iovec *)a->arg1, a->arg2, ret);
      break;
    case WS_SOCK_SENDMSG:
    case WS_SOCK_RECVMSG: {
      struct user_msghdr msg;
      if (bpf_probe_read_user(&msg, sizeof(msg), (const void *)a->arg1) == 0)
        captured = copy_iov(ev, (const struct iovec *)msg.msg_iov, msg.msg_iovlen, ret);
      break;
    }
  }
  ev->captured = captured;
  if (captured < (__u64)ret)
    scount(WS_SCNT_BYTES_TRUNCATED, (__u64)ret - captured);
  __u64 size = WS_SOCK_DATA_HEADER_SIZE + (captured & (2 * WS_MAX_CAPTURE - 1));
  if (size > sizeof(*ev))
    size = sizeof(*ev);
  if (bpf_ringbuf_output(&sock_events, ev, size, data_wakeup_flag(scratch)))
    scount(WS_SCNT_RINGBUF_DROPS, 1);
  else
    scount(WS_SCNT_DATA_EVENTS, 1);
}

/* connect() or accept() gave tgid the connection at fd. */
static __always_inline void new_conn(__u32 tgid, int fd, __u8 role, bool btf)
{
  struct ws_conn_key key = {.tgid = tgid, .fd = fd};
  bpf_map_delete_elem(&not_sockets, &key);
  struct sock *sk = fd_to_sock(fd);
  if (!sk)
    return;
  /* Non-blocking clients (hiredis, libpq) call connect() again on the same
   * socket once it is writable: that is the same connection. */
  struct ws_conn_state *st = bpf_map_lookup_elem(&conns, &key);
  if (st && st->sock == (__u64)(unsigned long)sk)
    return;
  open_conn(tgid, fd, sk, role, current_exec_id(btf), 0);
}

/* The thread's SSL object, if the openssl family is loaded and its process
 * has made an OpenSSL call (see ssl_of_thread, ssl_tgids). */
static __always_inline __u64 current_ssl(__u64 pid_tgid)
{
  if (!ssl_enabled)
    return 0;
  if (!ws_tgid_test(&ssl_tgids, pid_tgid >> 32))
    return 0;
  __u32 tid = (__u32)pid_tgid;
  __u64 *ssl = bpf_map_lookup_elem(&ssl_of_thread, &tid);
  return ssl ? *ssl : 0;
}

/* The messages a sendmmsg/recvmmsg moved, at its sys_exit: each is a data
 * syscall of its own (a msghdr), whose length the kernel wrote into its
 * msg_len. */
struct mmsg_walk {
  struct sock_call call; /* the msg form of the call; arg1: the vector */
  __u64 exec_id;
  __u32 tgid;
  __u32 tid;
  __u32 count; /* messages moved: the syscall's return value */
};

static long mmsg_step(__u32 i, void *data)
{
  struct mmsg_walk *w = data;
  if (i >= w->count)
    return 1;
  const struct mmsghdr *m = (const struct mmsghdr *)(unsigned long)w->call.arg1 + i;
  __u32 len;
  /* The kernel has just written it: a failed read means the vector was
   * unmapped meanwhile, and no later message can be read either. */
  if (bpf_probe_read_user(&len, sizeof(len), &m->msg_len))
    return 1;
  if (len == 0)
    return 0;
  struct sock_call call = w->call;
  call.arg1 = (__u64)(unsigned long)m;
  on_data(&call, w->tgid, w->tid, len, w->exec_id, 0, 0);
  return 0;
}

/* A syscall of a traced thread returned `ret`; regs are its user registers.
 * `btf`: a tp_btf program (regs a BTF pointer; see WS_SYSCALL_ARG). */
static __always_inline void sockets_sys_exit(struct pt_regs *regs, long ret, __u64 pid_tgid,
                                             bool btf)
{
  __u32 nr = WS_SYSCALL_NR(btf, regs);
  __u8 *kindp = bpf_map_lookup_elem(&sock_syscalls, &nr);
  if (!kindp || *kindp == WS_SOCK_NONE)
    return;
  __u8 k = *kindp;
  __u32 tgid = pid_tgid >> 32;
  const int fd = (int)WS_SYSCALL_ARG(btf, 1, regs);

  if (k == WS_SOCK_CLOSE) {
    /* Linux releases the descriptor even when close() fails. */
    close_conn(tgid, fd);
    return;
  }
  if (k == WS_SOCK_DUP2) {
    const int newfd = (int)WS_SYSCALL_ARG(btf, 2, regs);
    if (ret >= 0 && newfd != fd)
      close_conn(tgid, newfd);
    return;
  }
  if (k == WS_SOCK_CONNECT) {
    if (ret == 0 || ret == -EINPROGRESS)
      new_conn(tgid, fd, WS_ROLE_CLIENT, btf);
    return;
  }
  if (k == WS_SOCK_ACCEPT) {
    if (ret >= 0)
      new_conn(tgid, (int)ret, WS_ROLE_SERVER, btf);
    return;
  }
  if (ret <= 0)
    return;
  /* Peeked bytes are read again later: following them would count them
   * twice (nginx peeks one byte of every new connection). */
  if ((k == WS_SOCK_RECVFROM && (WS_SYSCALL_ARG(btf, 4, regs) & MSG_PEEK)) ||
      (k == WS_SOCK_RECVMSG && (WS_SYSCALL_ARG(btf, 3, regs) & MSG_PEEK)) ||
      (k == WS_SOCK_RECVMMSG && (WS_SYSCALL_ARG(btf, 4, regs) & MSG_PEEK)))
    return;
  if (k == WS_SOCK_RECVFROM)
    k = WS_SOCK_RECV;
  /* splice's socket may be either end; which, only the "sched" flavour's
   * send/receive tracepoints say. */
  if (k == WS_SOCK_SPLICE)
    return;
  const bool sendfile = k == WS_SOCK_SENDFILE;
  if (sendfile)
    k = WS_SOCK_SEND;
  struct ws_conn_key key = {.tgid = tgid, .fd = fd};
  if (bpf_map_lookup_elem(&not_sockets, &key))
    return;
  __u32 tid = (__u32)pid_tgid;
  struct sock_call call = {
      .arg1 = WS_SYSCALL_ARG(btf, 2, regs),
      .arg2 = WS_SYSCALL_ARG(btf, 3, regs),
      .fd = fd,
      .kind = k,
      .no_copy = sendfile,
      .ssl = current_ssl(pid_tgid),
  };
  if (k == WS_SOCK_SENDMMSG || k == WS_SOCK_RECVMMSG) {
    /* ret counts messages, not bytes. */
    struct mmsg_walk w = {
        .call = call,
        .exec_id = current_exec_id(btf),
        .tgid = tgid,
        .tid = tid,
        .count = ret,
    };
    w.call.kind = k == WS_SOCK_SENDMMSG ? WS_SOCK_SENDMSG : WS_SOCK_RECVMSG;
    bpf_loop(WS_MAX_MMSG, mmsg_step, &w, 0);
    return;
  }
  on_data(&call, tgid, tid, ret, current_exec_id(btf), 0, 0);
}

/* "sched" flavour: what the syscall the current task is in means for a
 * socket (enum ws_sock_syscall, WS_SOCK_NONE if nothing); *regs gets its
 * user registers, which hold the syscall's arguments. */
static __always_inline __u8 current_sock_syscall(struct pt_regs **regs)
{
  *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
  __u32 nr = WS_SYSCALL_NR(true, *regs);
  __u8 *kindp = bpf_map_lookup_elem(&sock_syscalls, &nr);
  return kindp ? *kindp : WS_SOCK_NONE;
}

/* "sched" flavour: sk's cookie (bpf_get_socket_cookie), read directly once
 * the socket has one: the helper was ~20 ns per data event in the client
 * (BENCHMARKS.md, "Lighter socket events"). sk is a BTF pointer. */
static __always_inline __u64 sock_cookie(struct sock *sk)
{
  __u64 cookie = sk->__sk_common.skc_cookie.counter;
  return cookie ? cookie : bpf_get_socket_cookie(sk);
}

/* "sched" flavour: which message of its sendmmsg/recvmmsg a thread is at.
 * The mmsg forms move each message of their vector through a
 * sock_sendmsg/sock_recvmsg of its own, in order, and stop at the first
 * error, so the length tracepoints fire once per message; nothing there says
 * which one. The thread counts them from the call's first message, and a
 * task work ends the count on the thread's way back to user space, so the
 * next call starts again at message 0. One per thread that made such a call
 * on a followed socket (deleted at thread exit). */
struct mmsg_cursor {
  struct bpf_task_work tw;
  __u32 next;     /* the index the call's next message gets */
  __u8 counting;  /* a call is running: its task work is scheduled */
  /* A task work could not be scheduled: where this thread's calls begin
   * is unknown from then on, and their bytes are counted, not copied. */
  __u8 lost;
  __u8 pad[2];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 16384);
  __type(key, __u32); /* tid */
  __type(value, struct mmsg_cursor);
} mmsg_cursors SEC(".maps");

/* The task work: the thread leaves the call. */
static int end_mmsg_call(struct bpf_map *map, void *key, void *value)
{
  struct mmsg_cursor *c = value;
  c->counting = 0;
  return 0;
}

/* "sched" flavour: the address of the message (in the vector `vec`) of the
 * current thread's sendmmsg/recvmmsg that a length tracepoint reports, or 0
 * if it cannot be known. Called for every message, empty ones included. */
static __always_inline __u64 mmsg_message(__u32 tid, __u64 vec)
{
  struct mmsg_cursor init = {};
  /* The map full: this message is counted, not copied. Were the map to
   * make room before the call's next message, that one would be taken for
   * message 0: 16384 threads inside such calls at once is far beyond the
   * servers we trace. */
  struct mmsg_cursor *c = ws_lookup_or_init(&mmsg_cursors, &tid, &init);
  if (!c || c->lost)
    return 0;
  if (!c->counting) {
    if (bpf_task_work_schedule_resume_impl(bpf_get_current_task_btf(), &c->tw, &mmsg_cursors,
                                           end_mmsg_call, 0)) {
      c->lost = 1;
      return 0;
    }
    c->counting = 1;
    c->next = 0;
  }
  __u32 i = c->next++;
  if (i >= WS_MAX_MMSG) /* the kernel moves at most this many */
    return 0;
  return vec + (__u64)i * sizeof(struct mmsghdr);
}

/* "sched" flavour: a socket send (`egress`) or receive of the current task
 * returned `ret` on sk; flags are the receive's. */
static __always_inline void sockets_sock_io(struct sock *sk, int ret, int flags, bool egress)
{
  /* ret 0 still moves an mmsg call to its next message. */
  if (ret < 0 || !sk)
    return;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  if (!is_traced(tgid))
    return;
  /* Peeked bytes are read again later (see sockets_sys_exit). An mmsg
   * call peeks all its messages or none. */
  if (!egress && (flags & MSG_PEEK))
    return;
  struct pt_regs *regs;
  __u8 k = current_sock_syscall(&regs);
  __u32 tid = (__u32)pid_tgid;
  struct sock_call call = {
      .arg1 = WS_SYSCALL_ARG(true, 2, regs),
      .arg2 = WS_SYSCALL_ARG(true, 3, regs),
      .fd = (int)WS_SYSCALL_ARG(true, 1, regs),
      .kind = k,
  };
  if (k == WS_SOCK_SENDMMSG || k == WS_SOCK_RECVMMSG) {
    if (!followed_sock(sk))
      return; /* a datagram socket's call: no need to count its messages */
    call.kind = k == WS_SOCK_SENDMMSG ? WS_SOCK_SENDMSG : WS_SOCK_RECVMSG;
    call.arg1 = mmsg_message(tid, call.arg1);
    call.no_copy = call.arg1 == 0;
  }
  if (ret == 0)
    return;
  if (k == WS_SOCK_SENDFILE || k == WS_SOCK_SPLICE) {
    /* No buffer to copy (the bytes go kernel to kernel), but the position
     * moves: a sent file's bytes become a gap in the stream, not bytes
     * missing from the middle of a message. splice's socket is fd_out when
     * it sends, fd_in when it receives; sendfile only sends. */
    if (k == WS_SOCK_SENDFILE && !egress)
      return;
    call.fd = (int)(k == WS_SOCK_SPLICE && egress ? WS_SYSCALL_ARG(true, 3, regs)
                                                  : WS_SYSCALL_ARG(true, 1, regs));
    call.kind = egress ? WS_SOCK_SEND : WS_SOCK_RECV;
    call.no_copy = true;
  }
  k = call.kind;
  bool send = k == WS_SOCK_SEND || k == WS_SOCK_SENDV || k == WS_SOCK_SENDMSG;
  bool recv = k == WS_SOCK_RECV || k == WS_SOCK_RECVFROM || k == WS_SOCK_RECVV ||
              k == WS_SOCK_RECVMSG;
  /* Anything else has no buffer in its registers we can name: io_uring,
   * the kernel's own sends. */
  if (egress ? !send : !recv)
    return;
  if (k == WS_SOCK_RECVFROM)
    call.kind = WS_SOCK_RECV;
  call.ssl = current_ssl(pid_tgid);
  on_data(&call, tgid, tid, ret, current_exec_id(true), sk, sock_cookie(sk));
}

/* A thread of a traced process exits. */
static __always_inline void sockets_thread_exit(__u32 tid)
{
  bpf_map_delete_elem(&mmsg_cursors, &tid);
}

/* "sched" flavour: the fd the current task's close() or dup2() releases,
 * or -1. */
static __always_inline int closing_fd(void)
{
  struct pt_regs *regs;
  __u8 k = current_sock_syscall(&regs);
  if (k == WS_SOCK_CLOSE)
    return (int)WS_SYSCALL_ARG(true, 1, regs);
  if (k == WS_SOCK_DUP2)
    return (int)WS_SYSCALL_ARG(true, 2, regs);
  return -1;
}

/* "sched" flavour: sk's state changes in the current task's context. */
static __always_inline void sched_conn_state(struct sock *sk, int newstate)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  if (!is_traced(tgid))
    return;
  __u64 cookie = sock_cookie(sk);
  if (newstate == TCP_SYN_SENT) {
    struct pt_regs *regs;
    __u8 one = 1;
    /* Not opened here: the local port is chosen after SYN_SENT. */
    if (current_sock_syscall(&regs) == WS_SOCK_CONNECT)
      bpf_map_update_elem(&client_socks, &cookie, &one, BPF_ANY);
    return;
  }
  /* The last close of a socket: close() has taken the fd out of the table,
   * and the final fput runs before it returns to user space. */
  int fd = closing_fd();
  if (fd < 0)
    return;
  struct ws_conn_key key = {.tgid = tgid, .fd = fd};
  struct ws_conn_state *st = bpf_map_lookup_elem(&conns, &key);
  if (st && st->cookie == cookie)
    end_conn(tgid, &key, st);
}

/* `sched`: the "sched" flavour, which opens and ends connections here. */
static __always_inline void sockets_set_state(struct sock *sk, int oldstate, int newstate,
                                              bool sched)
{
  __u64 key = (__u64)(unsigned long)sk;
  if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK || newstate == TCP_CLOSE) {
    /* close() (or shutdown) starts here, in the closing task's context:
     * keep the stats for the close event, sent after close() returned. */
    struct sock_resets *r = bpf_map_lookup_elem(&resets, &key);
    if (r)
      tcp_stats(sk, &r->srtt_us, &r->retransmits);
    if (sched && r)
      sched_conn_state(sk, newstate);
  }
  if (newstate == TCP_SYN_SENT) {
    /* connect() runs in the process's context here; ESTABLISHED may come
     * from softirq, so the tgid is taken now. */
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    if (!is_traced(tgid))
      return;
    struct connect_start s = {.ts_ns = bpf_ktime_get_ns(), .tgid = tgid};
    bpf_map_update_elem(&connecting, &key, &s, BPF_ANY);
    if (sched)
      sched_conn_state(sk, newstate);
    return;
  }
  struct connect_start *s = bpf_map_lookup_elem(&connecting, &key);
  if (!s)
    return;
  if (oldstate == TCP_SYN_SENT && newstate == TCP_ESTABLISHED) {
    struct ws_tcp_connect_event *ev = bpf_ringbuf_reserve(&sock_events, sizeof(*ev), 0);
    if (ev) {
      ev->hdr.type = WS_EV_TCP_CONNECT;
      ev->hdr.tgid = s->tgid;
      ev->hdr.ts_ns = bpf_ktime_get_ns();
      ev->sock = key;
      ev->latency_ns = ev->hdr.ts_ns - s->ts_ns;
      bpf_ringbuf_submit(ev, sock_wakeup_flag());
    } else {
      scount(WS_SCNT_RINGBUF_DROPS, 1);
    }
  }
  bpf_map_delete_elem(&connecting, &key);
}

/* An RST on a socket of a followed connection: counted for its close event. */
static __always_inline void sockets_reset(struct sock *sk, bool sent)
{
  __u64 key = (__u64)(unsigned long)sk;
  struct sock_resets *r = bpf_map_lookup_elem(&resets, &key);
  if (!r)
    return;
  if (sent)
    __sync_fetch_and_add(&r->sent, 1);
  else
    __sync_fetch_and_add(&r->received, 1);
}

#endif /* WAITSCOPE_SOCKETS_BPF_H */
