// WaitsProbe owns the kernel side of `waitscope record`: it loads
// bpf/waits.bpf.c, picks the tp_btf or raw_tp flavour of each hook (whichever
// this kernel accepts), attaches, and gives typed access to the maps and the
// event ring buffer. Destroying it detaches and unloads everything (RAII).
//
// Not thread-safe: one thread polls and reads; TracePid may be called from
// that thread only.
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
#include "waitscope/bpf/waits.h"

struct waits_bpf;
struct ring_buffer;

namespace waitscope {

struct ProbeOptions {
  std::uint64_t min_stack_ns = 1'000'000;  // user stacks for waits at least this long
  bool trace_all = false;                  // every process (agent mode), not a pid set
};

struct KernelCounters {
  std::uint64_t waits = 0;
  std::uint64_t ringbuf_drops = 0;
  std::uint64_t agg_full = 0;
  std::uint64_t inflight_full = 0;
  std::uint64_t stacks_full = 0;
  std::uint64_t stack_errors = 0;
  std::uint64_t tgids_full = 0;

  // Waits that were not counted at all (as opposed to counted without detail).
  std::uint64_t waits_lost() const { return agg_full + inflight_full; }
};

class WaitsProbe {
 public:
  using EventHandler = std::function<void(std::span<const std::byte>)>;

  static Result<std::unique_ptr<WaitsProbe>> Start(const ProbeOptions& options);
  ~WaitsProbe();
  WaitsProbe(const WaitsProbe&) = delete;
  WaitsProbe& operator=(const WaitsProbe&) = delete;

  // "tp_btf" or "raw_tp": the hook flavour this kernel accepted.
  const std::string& flavor() const { return flavor_; }

  void TracePid(std::uint32_t tgid);
  bool IsTraced(std::uint32_t tgid) const;
  // The traced-process set, for other program families to share.
  int traced_map_fd() const { return traced_->map_fd(); }

  // Delivers ring-buffer events to `handler` for up to timeout_ms.
  void SetEventHandler(EventHandler handler) { handler_ = std::move(handler); }
  Status Poll(int timeout_ms);

  KernelCounters ReadCounters() const;
  std::vector<std::pair<ws_wait_key, ws_wait_val>> ReadWaits() const;
  std::optional<ws_stack> ReadStack(std::uint32_t tgid, std::uint64_t hash) const;

 private:
  WaitsProbe() = default;
  static int OnRingEvent(void* ctx, void* data, std::size_t size);

  waits_bpf* skel_ = nullptr;
  ring_buffer* ring_ = nullptr;
  std::string flavor_;
  std::optional<TracedSet> traced_;
  EventHandler handler_;
};

}  // namespace waitscope
