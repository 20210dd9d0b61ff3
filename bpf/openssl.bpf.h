/* The openssl family: plaintext of OpenSSL connections of traced processes.
 * Included by bpf/waitscope.bpf.c after sockets.bpf.h, whose connections,
 * capture buffer, copy routine and ring buffer it reuses.
 *
 * Hooks (uprobes; no target in SEC: agent/loader/ssl_attacher attaches them
 * once per library file, for every process, and these programs filter by
 * the traced set first):
 *   ssl_read_entry / ssl_read_ex_entry / ssl_write_entry / ssl_write_ex_entry
 *                        SSL_read, SSL_read_ex, SSL_write, SSL_write_ex; or,
 *                        where user space finds it, the _ex programs on the
 *                        one internal worker each pair calls (a probe there
 *                        is not single-stepped: agent/loader/ssl_workers.h)
 *   ssl_data_ret         the return of all of them: WS_EV_SSL_DATA
 *   ssl_handshake_entry / ssl_handshake_ret
 *                        SSL_do_handshake, SSL_connect, SSL_accept:
 *                        WS_EV_SSL_HANDSHAKE (outermost call only)
 *   ssl_free_entry       SSL_free: forgets the SSL object
 *
 * SSL object -> connection: while a call is in flight, its SSL* sits in the
 * thread's ssl_of_thread entry; a data syscall on a followed socket during the
 * call (sockets.bpf.h on_data) then records (tgid, ssl) -> conn_id, fd in
 * `ssl_conns`. Calls served from OpenSSL's buffers, with no syscall, find
 * their connection there. Plaintext stream positions live in the same entry.
 * Only with the sockets family enabled (conn_ids and the ring are its own).
 */
#ifndef WAITSCOPE_OPENSSL_BPF_H
#define WAITSCOPE_OPENSSL_BPF_H

#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"
#include "sockets.bpf.h"
#include "traced.bpf.h"
#include "waitscope/bpf/openssl.h"

/* The OpenSSL calls a thread is inside, updated in place (LRU: entries of
 * threads that exited age out). Data calls do not nest in OpenSSL; a
 * handshake can (SSL_connect calls SSL_do_handshake), hence the depth, and
 * has its own slot so an implicit one never clobbers a data call. */
struct ssl_call {
  __u64 ssl;      /* data call: SSL object, 0 when none */
  __u64 buf;
  __u64 size_ptr; /* _ex forms: where the byte count is written */
  __u64 enter_ns;
  __u64 hs_ssl;   /* handshake: SSL object, 0 when none */
  __u64 hs_enter_ns;
  __u32 hs_depth;
  __u8 kind;      /* enum ws_ssl_call of the data call */
  __u8 pad[3];
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32); /* tid */
  __type(value, struct ssl_call);
} ssl_calls SEC(".maps");

/* LRU: SSL objects of processes that exited (or never freed) age out;
 * SSL_free removes the others. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ws_ssl_key);
  __type(value, struct ws_ssl_conn);
} ssl_conns SEC(".maps");

static __always_inline bool ssl_should_trace(__u64 pid_tgid)
{
  return sockets_enabled && is_traced(pid_tgid >> 32);
}

/* Marks (ssl != 0) or clears the thread's ssl_of_thread entry, which the
 * socket data syscalls read (sockets.bpf.h); marking also adds the process
 * to ssl_tgids, without which they do not look. */
static __always_inline void ssl_mark_thread(__u64 pid_tgid, __u64 ssl)
{
  __u32 tid = (__u32)pid_tgid;
  if (ssl)
    ws_tgid_set(&ssl_tgids, pid_tgid >> 32, true);
  __u64 *cur = bpf_map_lookup_elem(&ssl_of_thread, &tid);
  if (cur) {
    *cur = ssl;
    return;
  }
  if (!ssl)
    return;
  if (bpf_map_update_elem(&ssl_of_thread, &tid, &ssl, BPF_NOEXIST) &&
      !bpf_map_lookup_elem(&ssl_of_thread, &tid))
    scount(WS_SCNT_SSL_INFLIGHT_LOST, 1);
}

static __always_inline struct ssl_call *ssl_call_of(__u32 tid)
{
  struct ssl_call init = {};
  struct ssl_call *c = ws_lookup_or_init(&ssl_calls, &tid, &init);
  if (!c)
    scount(WS_SCNT_SSL_INFLIGHT_LOST, 1);
  return c;
}

static __always_inline void openssl_on_socket_data(__u32 tgid, __u64 ssl,
                                                   const struct ws_conn_state *st, int fd)
{
  struct ws_ssl_key key = {.tgid = tgid, .ssl = ssl};
  struct ws_ssl_conn *c = bpf_map_lookup_elem(&ssl_conns, &key);
  if (c) {
    if (c->conn_id == st->conn_id)
      return;
    /* The object now speaks over another connection (SSL_clear and reuse,
     * or a free we missed): its plaintext streams start again. Positions
     * counted while the connection was unknown (conn_id 0) are kept. */
    if (c->conn_id) {
      c->sent = 0;
      c->received = 0;
    }
    c->conn_id = st->conn_id;
    c->fd = fd;
    return;
  }
  struct ws_ssl_conn init = {.conn_id = st->conn_id, .fd = fd};
  if (bpf_map_update_elem(&ssl_conns, &key, &init, BPF_NOEXIST) &&
      !bpf_map_lookup_elem(&ssl_conns, &key))
    scount(WS_SCNT_SSL_CONNS_FULL, 1);
}

static __always_inline int ssl_data_entry(void *ssl, const void *buf, void *size_ptr, __u8 kind)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!ssl_should_trace(pid_tgid))
    return 0;
  __u32 tid = (__u32)pid_tgid;
  struct ssl_call *c = ssl_call_of(tid);
  if (!c)
    return 0;
  c->ssl = (__u64)(unsigned long)ssl;
  c->buf = (__u64)(unsigned long)buf;
  c->size_ptr = (__u64)(unsigned long)size_ptr;
  c->enter_ns = bpf_ktime_get_ns();
  c->kind = kind;
  ssl_mark_thread(pid_tgid, c->ssl);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_entry, void *ssl, void *buf, int num)
{
  return ssl_data_entry(ssl, buf, 0, WS_SSL_READ);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_entry, void *ssl, void *buf, __u64 num, void *readbytes)
{
  return ssl_data_entry(ssl, buf, readbytes, WS_SSL_READ_EX);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_entry, void *ssl, const void *buf, int num)
{
  return ssl_data_entry(ssl, buf, 0, WS_SSL_WRITE);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_entry, void *ssl, const void *buf, __u64 num, void *written)
{
  return ssl_data_entry(ssl, buf, written, WS_SSL_WRITE_EX);
}

/* The (tgid, ssl) entry, created (connection unknown) if missing. */
static __always_inline struct ws_ssl_conn *ssl_conn_of(__u32 tgid, __u64 ssl)
{
  struct ws_ssl_key key = {.tgid = tgid, .ssl = ssl};
  struct ws_ssl_conn init = {.fd = -1};
  struct ws_ssl_conn *sc = ws_lookup_or_init(&ssl_conns, &key, &init);
  if (!sc)
    scount(WS_SCNT_SSL_CONNS_FULL, 1);
  return sc;
}

/* Sends `n` plaintext bytes at `buf` moved by a data call that returned. */
static __always_inline void ssl_emit_data(__u32 tgid, __u32 tid, const struct ssl_call *c, __u64 n,
                                          bool egress)
{
  struct ws_ssl_conn *sc = ssl_conn_of(tgid, c->ssl);
  if (!sc)
    return;
  __u64 pos = egress ? sc->sent : sc->received;
  if (egress)
    sc->sent += n;
  else
    sc->received += n;
  __u64 conn_id = sc->conn_id;

  /* The socket's entry: is plaintext wanted, and its latest TCP stats. */
  struct ws_conn_state *st = 0;
  if (conn_id) {
    struct ws_conn_key ckey = {.tgid = tgid, .fd = sc->fd};
    st = bpf_map_lookup_elem(&conns, &ckey);
    if (st && st->conn_id != conn_id)
      st = 0; /* the fd now holds another connection: ours was closed */
    if (st)
      apply_conn_ctl(&ckey, st);
    if (st && (st->flags & WS_CONN_NO_PLAINTEXT))
      return;
  } else {
    scount(WS_SCNT_SSL_UNKNOWN_CONN, 1);
  }

  __u32 cpu = bpf_get_smp_processor_id();
  struct data_scratch *scratch = bpf_map_lookup_elem(&data_scratch, &cpu);
  if (!scratch)
    return;
  struct ws_sock_data_event *ev = &scratch->ev;
  ev->hdr.type = WS_EV_SSL_DATA;
  ev->hdr.tgid = tgid;
  ev->hdr.ts_ns = bpf_ktime_get_ns();
  ev->conn_id = conn_id;
  ev->stream_pos = pos;
  ev->syscall_ns = ev->hdr.ts_ns - c->enter_ns;
  ev->tid = tid;
  ev->len = n;
  ev->direction = egress ? WS_DIR_EGRESS : WS_DIR_INGRESS;
  ev->srtt_us = 0;
  ev->retransmits = 0;
  if (st)
    sample_tcp_stats(st, ev->hdr.ts_ns, &ev->srtt_us, &ev->retransmits);
  __u32 captured = copy_chunk(ev, 0, (const void *)c->buf, n);
  ev->captured = captured;
  if (captured < n)
    scount(WS_SCNT_SSL_BYTES_TRUNCATED, n - captured);
  __u64 size = WS_SOCK_DATA_HEADER_SIZE + (captured & (2 * WS_MAX_CAPTURE - 1));
  if (size > sizeof(*ev))
    size = sizeof(*ev);
  if (bpf_ringbuf_output(&sock_events, ev, size, data_wakeup_flag(scratch)))
    scount(WS_SCNT_SSL_RINGBUF_DROPS, 1);
  else
    scount(WS_SCNT_SSL_DATA_EVENTS, 1);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_data_ret, long ret)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!ssl_should_trace(pid_tgid))
    return 0;
  __u32 tid = (__u32)pid_tgid;
  struct ssl_call *cp = bpf_map_lookup_elem(&ssl_calls, &tid);
  if (!cp || cp->kind == WS_SSL_NONE) {
    scount(WS_SCNT_SSL_INFLIGHT_LOST, 1);
    return 0;
  }
  struct ssl_call c = *cp;
  cp->kind = WS_SSL_NONE;
  cp->ssl = 0;
  ssl_mark_thread(pid_tgid, c.hs_ssl); /* back to the enclosing handshake, if any */

  int r = (int)ret;
  __u64 n = 0;
  if (c.kind == WS_SSL_READ || c.kind == WS_SSL_WRITE) {
    if (r <= 0)
      return 0;
    n = r;
  } else {
    /* SSL_*_ex return 1 on success; the internal workers probed in their
     * place (agent/loader/ssl_workers.h) return any value > 0. */
    __u64 moved = 0;
    if (r <= 0 || !c.size_ptr || bpf_probe_read_user(&moved, sizeof(moved), (void *)c.size_ptr))
      return 0;
    n = moved;
  }
  if (n == 0)
    return 0;
  if (n > 0xffffffffULL) /* ev->len is 32 bits; OpenSSL records are far smaller */
    n = 0xffffffffULL;
  bool egress = c.kind == WS_SSL_WRITE || c.kind == WS_SSL_WRITE_EX;
  ssl_emit_data(pid_tgid >> 32, tid, &c, n, egress);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_handshake_entry, void *ssl)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!ssl_should_trace(pid_tgid))
    return 0;
  __u32 tid = (__u32)pid_tgid;
  struct ssl_call *c = ssl_call_of(tid);
  if (!c)
    return 0;
  __u64 s = (__u64)(unsigned long)ssl;
  if (c->hs_ssl == s && c->hs_depth > 0) {
    c->hs_depth++; /* SSL_connect/SSL_accept -> SSL_do_handshake */
    return 0;
  }
  /* A different object, or a previous return we never saw: start afresh. */
  c->hs_ssl = s;
  c->hs_depth = 1;
  c->hs_enter_ns = bpf_ktime_get_ns();
  if (c->kind == WS_SSL_NONE)
    ssl_mark_thread(pid_tgid, s);
  return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_handshake_ret, long ret)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!ssl_should_trace(pid_tgid))
    return 0;
  __u32 tgid = pid_tgid >> 32;
  __u32 tid = (__u32)pid_tgid;
  struct ssl_call *c = bpf_map_lookup_elem(&ssl_calls, &tid);
  if (!c || c->hs_depth == 0) {
    scount(WS_SCNT_SSL_INFLIGHT_LOST, 1);
    return 0;
  }
  if (--c->hs_depth > 0)
    return 0;
  __u64 ssl = c->hs_ssl;
  __u64 enter_ns = c->hs_enter_ns;
  c->hs_ssl = 0;
  if (c->kind == WS_SSL_NONE)
    ssl_mark_thread(pid_tgid, 0);

  struct ws_ssl_key key = {.tgid = tgid, .ssl = ssl};
  struct ws_ssl_conn *sc = bpf_map_lookup_elem(&ssl_conns, &key);
  struct ws_ssl_handshake_event *ev = bpf_ringbuf_reserve(&sock_events, sizeof(*ev), 0);
  if (!ev) {
    scount(WS_SCNT_SSL_RINGBUF_DROPS, 1);
    return 0;
  }
  ev->hdr.type = WS_EV_SSL_HANDSHAKE;
  ev->hdr.tgid = tgid;
  ev->hdr.ts_ns = bpf_ktime_get_ns();
  ev->conn_id = sc ? sc->conn_id : 0;
  ev->ssl = ssl;
  ev->duration_ns = ev->hdr.ts_ns - enter_ns;
  ev->tid = tid;
  ev->ret = (int)ret;
  bpf_ringbuf_submit(ev, sock_wakeup_flag());
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_free_entry, void *ssl)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!ssl_should_trace(pid_tgid))
    return 0;
  struct ws_ssl_key key = {.tgid = pid_tgid >> 32, .ssl = (__u64)(unsigned long)ssl};
  bpf_map_delete_elem(&ssl_conns, &key);
  return 0;
}

#endif /* WAITSCOPE_OPENSSL_BPF_H */
