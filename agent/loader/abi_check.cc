// Compile-time checks of the kernel <-> user ABI in include/waitscope/bpf/:
// a layout change in the header that breaks these must bump
// WS_WAITS_ABI_VERSION (or WS_SOCKETS_ABI_VERSION) and the user-space readers
// together.
#include <cstddef>

#include "waitscope/bpf/waits.h"

static_assert(WS_WAITS_ABI_VERSION == 3);
static_assert(sizeof(ws_target) == 40);
static_assert(offsetof(ws_target, gen) == 12);
static_assert(offsetof(ws_target, ino) == 16);
static_assert(offsetof(ws_target, addr) == 24);
static_assert(sizeof(ws_wait_key) == 56);
static_assert(offsetof(ws_wait_key, target) == 16);
static_assert(sizeof(ws_wait_val) == 24);
static_assert(sizeof(ws_stack_key) == 16);
static_assert(sizeof(ws_stack) == 8 + 8 * WS_MAX_STACK_DEPTH);
static_assert(sizeof(ws_event_header) == 16);
static_assert(sizeof(ws_stack_event) == 24);
static_assert(sizeof(ws_name_key) == 24);
static_assert(offsetof(ws_name_event, components) == 48);
static_assert(sizeof(ws_proc_event) == 40);
static_assert(sizeof(ws_wait_event) == 80);
static_assert(offsetof(ws_wait_event, target) == 40);

#include "waitscope/bpf/sockets.h"

static_assert(WS_SOCKETS_ABI_VERSION == 7);
static_assert(sizeof(ws_sock_open_event) == 192);
static_assert(offsetof(ws_sock_open_event, unix_path) == 80);
static_assert(offsetof(ws_sock_open_event, local_addr) == 40);
static_assert(sizeof(ws_sock_close_event) == 56);
static_assert(offsetof(ws_sock_data_event, data) == WS_SOCK_DATA_HEADER_SIZE);
static_assert(sizeof(ws_tcp_connect_event) == 32);
static_assert(sizeof(ws_conn_key) == 8);
static_assert(sizeof(ws_conn_ctl) == 16);
static_assert((WS_MAX_CAPTURE & (WS_MAX_CAPTURE - 1)) == 0, "the kernel masks with it");
static_assert(offsetof(ws_sock_data_event, conn_id) == 16);
static_assert(offsetof(ws_sock_data_event, stream_pos) == 24);
static_assert(offsetof(ws_sock_data_event, tid) == 40);
static_assert(offsetof(ws_sock_data_event, captured) == 48);
static_assert(offsetof(ws_sock_data_event, direction) == 52);
static_assert(WS_SCNT_MAX == 10);

#include "waitscope/bpf/openssl.h"

// WS_EV_SSL_DATA is a ws_sock_data_event: the event numbers must not collide.
static_assert(int{WS_EV_SSL_DATA} == int{WS_EV_TCP_CONNECT} + 1 && WS_EV_SSL_HANDSHAKE == 21);
static_assert(sizeof(ws_ssl_handshake_event) == 48);
static_assert(offsetof(ws_ssl_handshake_event, conn_id) == 16);
static_assert(offsetof(ws_ssl_handshake_event, duration_ns) == 32);
static_assert(offsetof(ws_ssl_handshake_event, tid) == 40);
static_assert(offsetof(ws_ssl_handshake_event, ret) == 44);
static_assert(sizeof(ws_ssl_key) == 16);
static_assert(sizeof(ws_ssl_conn) == 32);
