// SocketsProbe owns bpf/sockets.bpf.c: connection lifecycle and payload
// capture for the traced processes. It shares the traced-process set of the
// WaitsProbe it is started with, so both follow the same processes (and the
// children the kernel adds at fork). Same flavour choice and RAII rules as
// WaitsProbe; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/result.h"
#include "waitscope/bpf/sockets.h"

struct sockets_bpf;
struct ring_buffer;

namespace waitscope {

struct SocketsProbeOptions {
  std::uint32_t capture_bytes = 4096;  // per syscall; at most WS_MAX_CAPTURE
  bool trace_all = false;
};

struct SocketCounters {
  std::uint64_t data_events = 0;
  std::uint64_t ringbuf_drops = 0;
  std::uint64_t bytes_truncated = 0;
  std::uint64_t conns_full = 0;
};

class SocketsProbe {
 public:
  using EventHandler = std::function<void(std::span<const std::byte>)>;

  static Result<std::unique_ptr<SocketsProbe>> Start(const SocketsProbeOptions& options,
                                                     int traced_map_fd);
  ~SocketsProbe();
  SocketsProbe(const SocketsProbe&) = delete;
  SocketsProbe& operator=(const SocketsProbe&) = delete;

  const std::string& flavor() const { return flavor_; }
  void SetEventHandler(EventHandler handler) { handler_ = std::move(handler); }
  Status Poll(int timeout_ms);
  SocketCounters ReadCounters() const;

  // Stops copying payload of a connection whose protocol is of no interest
  // (stream positions are still counted).
  void StopCapture(std::uint32_t tgid, std::int32_t fd, std::uint64_t conn_id);

 private:
  SocketsProbe() = default;
  static int OnRingEvent(void* ctx, void* data, std::size_t size);

  sockets_bpf* skel_ = nullptr;
  ring_buffer* ring_ = nullptr;
  std::string flavor_;
  EventHandler handler_;
};

}  // namespace waitscope
