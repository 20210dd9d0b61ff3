// Probe owns the kernel side of waitscope: it loads bpf/waitscope.bpf.c (the
// waits and sockets program families behind one program per tracepoint, and
// the openssl family's uprobes), picks the sched, tp_btf or raw_tp flavour of the
// hooks (whichever this kernel accepts), attaches the tracepoints, and gives
// typed access to the maps and both event ring buffers. The uprobes are
// loaded (with the sockets family) but attached only on request, per library
// file (AttachSsl, driven by SslAttacher). Destroying it detaches and unloads
// everything (RAII), uprobe links included.
//
// Not thread-safe: one thread polls, reads and changes the traced set.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "loader/traced_set.h"
#include "waitscope/bpf/sockets.h"
#include "waitscope/bpf/waits.h"

struct waitscope_bpf;
struct ring_buffer;
struct bpf_link;

namespace waitscope {

struct ProbeOptions {
  std::uint64_t min_stack_ns = 1'000'000;  // user stacks for waits at least this long
  std::uint32_t capture_bytes = 0;         // socket payload per syscall; 0: sockets family off
  bool trace_all = false;                  // every process (agent mode), not a pid set
  // Send every wait at least this long as a WS_EV_WAIT event (request
  // attribution); nullopt: none.
  std::optional<std::uint64_t> wait_event_min_ns;
  // Kernel table sizes (the agent's limits.max_connections and max_stacks;
  // bpf/ has the same defaults): past them a connection is not followed, or
  // a wait keeps no stack, each counted in the report's loss.
  std::uint32_t max_connections = 65536;
  std::uint32_t max_stacks = 16384;
};

struct KernelCounters {
  std::uint64_t waits = 0;
  std::uint64_t ringbuf_drops = 0;
  std::uint64_t agg_full = 0;
  std::uint64_t inflight_full = 0;
  std::uint64_t stacks_full = 0;
  std::uint64_t stack_errors = 0;
  std::uint64_t tgids_full = 0;  // a traced process's child not traced (pid past the set)
  // Blocks whose end our sched_switch hook did not see, measured later from
  // the scheduler's accounting, without their stack.
  std::uint64_t unseen_switch_ins = 0;
  // Runs of our programs the kernel skipped because one was already running
  // on that CPU (bpf_prog_info.recursion_misses, summed): each is an event
  // (a syscall exit, a block, a copy, an SSL call) we never saw.
  std::uint64_t hook_misses = 0;

  // Waits that were not counted at all (as opposed to counted without detail).
  std::uint64_t waits_lost() const { return agg_full + inflight_full; }
};

struct SocketCounters {
  std::uint64_t data_events = 0;
  std::uint64_t ringbuf_drops = 0;
  std::uint64_t bytes_truncated = 0;
  std::uint64_t conns_full = 0;
  // The openssl family (include/waitscope/bpf/openssl.h).
  std::uint64_t ssl_data_events = 0;
  std::uint64_t ssl_ringbuf_drops = 0;    // plaintext or handshake events lost
  std::uint64_t ssl_bytes_truncated = 0;  // plaintext not copied
  std::uint64_t ssl_inflight_lost = 0;    // SSL calls not followed
  std::uint64_t ssl_unknown_conn = 0;     // plaintext events sent with conn_id 0
  std::uint64_t ssl_conns_full = 0;       // SSL objects whose positions restarted
};

// OpenSSL functions bpf/openssl.bpf.h has programs for. kReadWorker and
// kWriteWorker: the internal function both read (write) wrappers call,
// probed instead of them where it can be found (loader/ssl_workers.h).
enum class SslFunction {
  kRead,
  kReadEx,
  kWrite,
  kWriteEx,
  kReadWorker,
  kWriteWorker,
  kDoHandshake,
  kConnect,
  kAccept,
  kFree
};

struct SslFunctionOffset {
  SslFunction function;
  // File offset of the function's first instruction; for kFree possibly a
  // later one that avoids a single-step (loader/ssl_workers.h).
  std::uint64_t offset;
};

class Probe {
 public:
  using EventHandler = std::function<void(std::span<const std::byte>)>;

  static Result<std::unique_ptr<Probe>> Start(const ProbeOptions& options);
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // "sched", "tp_btf" or "raw_tp": the hook flavour this kernel accepted.
  const std::string& flavor() const { return flavor_; }
  bool sockets_enabled() const { return sockets_enabled_; }
  // The openssl family's programs are loaded (needs the sockets family).
  bool ssl_enabled() const { return ssl_enabled_; }

  void TracePid(std::uint32_t tgid);
  bool IsTraced(std::uint32_t tgid) const;

  // Handlers for the waits family's events and the sockets family's events.
  void SetWaitsHandler(EventHandler handler) { waits_handler_ = std::move(handler); }
  void SetSocketsHandler(EventHandler handler) { sockets_handler_ = std::move(handler); }
  // Delivers pending events of both ring buffers, waiting up to timeout_ms
  // (socket events do not wake the wait: call it at least every ~100 ms).
  Status Poll(int timeout_ms);

  KernelCounters ReadCounters() const;
  SocketCounters ReadSocketCounters() const;
  std::vector<std::pair<ws_wait_key, ws_wait_val>> ReadWaits() const;
  // Empties the waits and stacks maps (long-running traces, after reading a
  // window), so processes that are gone do not fill them. Increments made
  // between the read and the clear are lost (a window is seconds, the gap
  // microseconds).
  void ClearAggregates();
  std::optional<ws_stack> ReadStack(std::uint32_t tgid, std::uint64_t hash) const;

  // Stops copying payload of a connection whose protocol is of no interest
  // (stream positions are still counted).
  void StopCapture(std::uint32_t tgid, std::int32_t fd, std::uint64_t conn_id);
  // Stops copying the plaintext of the OpenSSL calls over that connection
  // (WS_CONN_NO_CAPTURE does not: it only stops the ciphertext).
  void StopPlaintext(std::uint32_t tgid, std::int32_t fd, std::uint64_t conn_id);
  // Removes the kernel's entries of connections `fds` of process `tgid`,
  // which exited: the kernel closed them without a close syscall.
  void ForgetConnections(std::uint32_t tgid, std::span<const std::int32_t> fds);

  // Attaches the openssl programs to `functions` of the ELF file at `path`,
  // for every process that maps it (the programs filter by the traced set).
  // All or nothing: on failure, what this call attached is detached again.
  // The links live as long as the Probe. Callers attach a file once (the
  // kernel would run the programs once per attachment).
  Status AttachSsl(const std::string& path, std::span<const SslFunctionOffset> functions);

 private:
  // Posts WS_CONN_* flags for a connection (see ws_conn_ctl).
  void PostConnFlags(std::uint32_t tgid, std::int32_t fd, std::uint64_t conn_id,
                     std::uint32_t flags);
  Probe() = default;
  static int OnWaitsEvent(void* ctx, void* data, std::size_t size);
  static int OnSocketsEvent(void* ctx, void* data, std::size_t size);

  waitscope_bpf* skel_ = nullptr;
  ring_buffer* ring_ = nullptr;
  std::string flavor_;
  bool sockets_enabled_ = false;
  bool ssl_enabled_ = false;
  // The OpenSSL programs were loaded for uprobe_multi links (loader/uprobe_multi.h):
  // their links are descriptors in ssl_link_fds_; otherwise libbpf links in ssl_links_.
  bool ssl_multi_ = false;
  std::vector<bpf_link*> ssl_links_;
  std::vector<int> ssl_link_fds_;
  std::optional<TracedSet> traced_;
  EventHandler waits_handler_;
  EventHandler sockets_handler_;
};

}  // namespace waitscope
