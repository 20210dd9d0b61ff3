/* Structs shared by bpf/sockets.bpf.h and user space (agent/loader,
 * agent/conn): connection lifecycle and payload capture of traced processes.
 * Same rules as waits.h: fixed-width types, explicit padding, sizes checked
 * in agent/loader/abi_check.cc, WS_SOCKETS_ABI_VERSION bumped on change. */
#ifndef WAITSCOPE_BPF_SOCKETS_H
#define WAITSCOPE_BPF_SOCKETS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "waitscope/bpf/waits.h" /* ws_event_header, WS_SYSCALL_TABLE_SIZE */

/* 2: SSL counters, WS_CONN_NO_PLAINTEXT, openssl.h events; 3: WS_SOCK_RECVFROM;
 * 4: UNIX paths; 5: ws_conn_state.stats_ms; 6: conn_ctl map, ws_conn_state
 * kernel-only; 7: syscall_ns 0 in socket data events (no sys_enter hook) */
#define WS_SOCKETS_ABI_VERSION 7
#define WS_MAX_CAPTURE 16384 /* power of two: the kernel masks copy sizes with it - 1 */
#define WS_MAX_IOV 8         /* iovec entries copied from readv/writev/sendmsg/recvmsg */
#define WS_UNIX_PATH_LEN 108 /* sizeof(sockaddr_un.sun_path) */

/* ws_sock_open_event.flags */
#define WS_OPEN_UNIX_ABSTRACT 1 /* unix_path is an abstract name (its leading NUL dropped) */

/* What a syscall means for a socket, filled by user space into
 * `sock_syscalls` (index = syscall number). */
enum ws_sock_syscall {
  WS_SOCK_NONE = 0,
  WS_SOCK_SEND = 1,     /* (fd, buf, len): write, sendto */
  WS_SOCK_RECV = 2,     /* (fd, buf, len): read, recvfrom */
  WS_SOCK_SENDV = 3,    /* (fd, iov, iovcnt): writev */
  WS_SOCK_RECVV = 4,    /* (fd, iov, iovcnt): readv */
  WS_SOCK_SENDMSG = 5,  /* (fd, msghdr): sendmsg */
  WS_SOCK_RECVMSG = 6,  /* (fd, msghdr): recvmsg */
  WS_SOCK_SENDMMSG = 7, /* (fd, mmsghdr[], vlen): each message as a sendmsg */
  WS_SOCK_RECVMMSG = 8, /* (fd, mmsghdr[], vlen, flags): each message as a recvmsg */
  WS_SOCK_CONNECT = 9,
  WS_SOCK_ACCEPT = 10, /* accept, accept4: the return value is the new fd */
  WS_SOCK_CLOSE = 11,
  WS_SOCK_DUP2 = 12,     /* dup2, dup3: argument 1 is closed if open */
  WS_SOCK_RECVFROM = 13, /* (fd, buf, len, flags): as WS_SOCK_RECV unless flags has MSG_PEEK */
  /* Bytes the kernel moves between its own buffers: nothing to copy, but
   * the stream position moves (user space sees a gap, not bytes missing
   * from the middle of a message). */
  WS_SOCK_SENDFILE = 14, /* (out_fd, in_fd, offset, count): sends to out_fd */
  WS_SOCK_SPLICE = 15,   /* (fd_in, off_in, fd_out, ...): "sched" flavour only */
};

enum ws_sock_role {
  WS_ROLE_UNKNOWN = 0, /* connection already open when tracing began */
  WS_ROLE_CLIENT = 1,
  WS_ROLE_SERVER = 2,
};

enum ws_sock_direction {
  WS_DIR_EGRESS = 0,  /* this process sent the bytes */
  WS_DIR_INGRESS = 1, /* this process received them */
};

/* Event types continue ws_event_type (waits.h). */
enum ws_sock_event_type {
  WS_EV_SOCK_OPEN = 16,
  WS_EV_SOCK_CLOSE = 17,
  WS_EV_SOCK_DATA = 18,
  WS_EV_TCP_CONNECT = 19, /* SYN_SENT -> ESTABLISHED latency */
};

struct ws_sock_open_event {
  struct ws_event_header hdr;
  __u64 conn_id; /* unique per connection for the whole recording */
  __s32 fd;
  __u8 role;    /* enum ws_sock_role */
  __u8 flags;   /* WS_OPEN_* */
  __u16 family; /* AF_INET, AF_INET6, AF_UNIX */
  __u16 local_port;
  __u16 peer_port;
  __u32 pad1;
  __u8 local_addr[16];
  __u8 peer_addr[16];
  __u64 sock; /* kernel address of struct sock: joins WS_EV_TCP_CONNECT */
  /* AF_UNIX: the path the connection goes to (the peer's address, or for an
   * accepted socket the listener's own), NUL-terminated; empty when neither
   * side is bound (socketpair). */
  char unix_path[WS_UNIX_PATH_LEN];
  __u32 pad2;
};

struct ws_sock_close_event {
  struct ws_event_header hdr;
  __u64 conn_id;
  __u64 bytes_sent;
  __u64 bytes_received;
  __u32 srtt_us;     /* smoothed RTT at close (TCP), 0 if unknown */
  __u32 retransmits; /* total retransmitted segments (TCP) */
  __u32 resets_sent;
  __u32 resets_received;
};

struct ws_sock_data_event {
  struct ws_event_header hdr; /* ts_ns: when the syscall returned */
  __u64 conn_id;
  __u64 stream_pos; /* offset of data[0] in this direction's byte stream */
  __u64 syscall_ns; /* WS_EV_SSL_DATA: duration of the SSL call; socket data: 0 (not measured) */
  __u32 tid;
  __u32 len;      /* bytes the syscall moved */
  __u32 captured; /* bytes in data[] (< len: the rest was not copied) */
  __u8 direction; /* enum ws_sock_direction */
  __u8 pad[3];
  __u32 srtt_us;
  __u32 retransmits;
  char data[WS_MAX_CAPTURE];
};
#define WS_SOCK_DATA_HEADER_SIZE 64 /* offsetof(struct ws_sock_data_event, data) */

struct ws_tcp_connect_event {
  struct ws_event_header hdr;
  __u64 sock;
  __u64 latency_ns;
};

/* Connections are keyed by (tgid, fd) in the kernel. User space never
 * writes the kernel's per-connection state (the kernel updates it on every
 * read and write, and a read-modify-write through the map would undo those
 * updates); it posts flags for a connection in the conn_ctl map instead, as
 * a ws_conn_ctl for that conn_id, and bumps the conn_ctl_gen counter in the
 * object's .bss. The kernel applies posted flags at the connection's next
 * event. WS_CONN_NO_CAPTURE: the protocol is of no interest (or the socket
 * carries TLS: ciphertext); WS_CONN_NO_PLAINTEXT: stop the plaintext copies
 * of the OpenSSL calls over it (openssl.h). */
struct ws_conn_key {
  __u32 tgid;
  __s32 fd;
};
struct ws_conn_ctl {
  __u64 conn_id; /* the connection the flags are for: an fd reused since is not affected */
  __u32 flags;   /* WS_CONN_* to set */
  __u32 pad;
};
#define WS_CONN_NO_CAPTURE 0x1   /* socket payload (ciphertext of TLS) */
#define WS_CONN_NO_PLAINTEXT 0x2 /* WS_EV_SSL_DATA payload */

enum ws_sock_counter {
  WS_SCNT_DATA_EVENTS = 0,
  WS_SCNT_RINGBUF_DROPS = 1, /* a data/open/close event was lost */
  WS_SCNT_BYTES_TRUNCATED = 2,
  WS_SCNT_CONNS_FULL = 3, /* connection map full: a connection was not followed */
  /* The openssl family (openssl.h): */
  WS_SCNT_SSL_DATA_EVENTS = 4,
  WS_SCNT_SSL_RINGBUF_DROPS = 5,   /* a plaintext or handshake event was lost */
  WS_SCNT_SSL_BYTES_TRUNCATED = 6, /* plaintext bytes not copied (capture limit, unreadable) */
  WS_SCNT_SSL_INFLIGHT_LOST = 7,   /* an SSL call was not followed (per-thread map full/evicted) */
  WS_SCNT_SSL_UNKNOWN_CONN = 8,    /* plaintext sent with conn_id 0: socket not known yet */
  WS_SCNT_SSL_CONNS_FULL = 9,      /* (tgid, SSL*) map refused an entry: positions restart */
  WS_SCNT_MAX = 10,
};

#endif /* WAITSCOPE_BPF_SOCKETS_H */
