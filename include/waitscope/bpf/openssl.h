/* Structs shared by bpf/openssl.bpf.h and user space: plaintext of OpenSSL
 * connections, read by uprobes on SSL_read/SSL_write (and their _ex forms)
 * and delivered on the sockets family's `sock_events` ring buffer.
 *
 * WS_EV_SSL_DATA records have exactly the layout of struct
 * ws_sock_data_event (sockets.h): conn_id is the socket's conn_id (0 when the
 * SSL object could not be tied to a socket yet), stream_pos counts PLAINTEXT
 * bytes of that direction, syscall_ns is the duration of the SSL call. So a
 * consumer can feed them to the same reassembly and parsers as WS_EV_SOCK_DATA,
 * keyed by (conn_id, plaintext) instead of conn_id.
 *
 * Same rules as waits.h: fixed-width types, explicit padding, sizes checked in
 * agent/loader/abi_check.cc; a layout change bumps WS_SOCKETS_ABI_VERSION
 * (these events share the sockets ring and its version). */
#ifndef WAITSCOPE_BPF_OPENSSL_H
#define WAITSCOPE_BPF_OPENSSL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "waitscope/bpf/sockets.h"

/* Event types continue ws_sock_event_type (sockets.h). */
enum ws_ssl_event_type {
  WS_EV_SSL_DATA = 20,      /* struct ws_sock_data_event, plaintext */
  WS_EV_SSL_HANDSHAKE = 21, /* struct ws_ssl_handshake_event */
};

/* OpenSSL functions the openssl family hooks; `kind` of the in-flight call. */
enum ws_ssl_call {
  WS_SSL_NONE = 0,
  WS_SSL_READ = 1,      /* int SSL_read(SSL *, void *buf, int num): returns bytes */
  WS_SSL_READ_EX = 2,   /* int SSL_read_ex(SSL *, void *buf, size_t num, size_t *readbytes) */
  WS_SSL_WRITE = 3,     /* int SSL_write(SSL *, const void *buf, int num) */
  WS_SSL_WRITE_EX = 4,  /* int SSL_write_ex(SSL *, const void *buf, size_t num, size_t *written) */
  WS_SSL_HANDSHAKE = 5, /* SSL_do_handshake, SSL_connect, SSL_accept (outermost call only) */
};

/* One SSL_do_handshake/SSL_connect/SSL_accept call (the outermost one:
 * SSL_connect calls SSL_do_handshake). A non-blocking handshake is several
 * calls returning -1 (want read/write) before one returns 1. */
struct ws_ssl_handshake_event {
  struct ws_event_header hdr; /* ts_ns: when the call returned */
  __u64 conn_id;              /* 0: no socket syscall tied the SSL object to a connection yet */
  __u64 ssl;                  /* user address of the SSL object */
  __u64 duration_ns;
  __u32 tid;
  __s32 ret; /* the function's return value: 1 done, 0 failed, < 0 error or want-read/write */
};

/* Per-(process, SSL object) state: which connection it speaks over, and how
 * many plaintext bytes went each way. */
struct ws_ssl_key {
  __u32 tgid;
  __u32 pad;
  __u64 ssl;
};
struct ws_ssl_conn {
  __u64 conn_id; /* 0 until a socket syscall made inside an SSL call names it */
  __u64 sent;    /* plaintext stream positions */
  __u64 received;
  __s32 fd;      /* -1 until known */
  __u32 pad;
};

#endif /* WAITSCOPE_BPF_OPENSSL_H */
