#include "loader/waits_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "loader/libbpf_log.h"
#include "loader/syscall_table.h"
#include "waits.skel.h"

namespace waitscope {
namespace {

std::string ErrnoText(int err) {
  return std::strerror(err < 0 ? -err : err);
}

// Every program in the skeleton, paired by hook: (tp_btf, raw_tp).
std::vector<std::pair<bpf_program*, bpf_program*>> HookPairs(waits_bpf* s) {
  return {{s->progs.btf_sys_enter, s->progs.raw_sys_enter},
          {s->progs.btf_sys_exit, s->progs.raw_sys_exit},
          {s->progs.btf_sched_switch, s->progs.raw_sched_switch},
          {s->progs.btf_fork, s->progs.raw_fork},
          {s->progs.btf_exec, s->progs.raw_exec},
          {s->progs.btf_exit, s->progs.raw_exit}};
}

// Opens, configures and loads the skeleton with one hook flavour. Returns the
// skeleton or a description of what the kernel refused.
Result<waits_bpf*> OpenAndLoad(const ProbeOptions& options, bool use_btf) {
  waits_bpf* skel = waits_bpf__open();
  if (!skel) return Error{"cannot open the BPF object: " + ErrnoText(errno)};
  skel->rodata->min_stack_ns = options.min_stack_ns;
  skel->rodata->self_tgid = static_cast<std::uint32_t>(getpid());
  skel->rodata->trace_all = options.trace_all ? 1 : 0;
  for (auto [btf_prog, raw_prog] : HookPairs(skel)) {
    bpf_program__set_autoload(btf_prog, use_btf);
    bpf_program__set_autoload(raw_prog, !use_btf);
  }
  if (int err = waits_bpf__load(skel); err != 0) {
    waits_bpf__destroy(skel);
    return Error{"the kernel refused to load them (" + ErrnoText(err) + ")"};
  }
  if (int err = waits_bpf__attach(skel); err != 0) {
    waits_bpf__destroy(skel);
    return Error{"the kernel refused to attach them (" + ErrnoText(err) + ")"};
  }
  return skel;
}

Status FillSyscallFlags(waits_bpf* skel) {
  int fd = bpf_map__fd(skel->maps.syscall_flags);
  const std::uint32_t n = std::min<std::uint32_t>(SyscallTableSize(), WS_SYSCALL_TABLE_SIZE);
  for (std::uint32_t nr = 0; nr < n; ++nr) {
    std::uint8_t flags = LookupSyscall(nr).fd_arg0 ? WS_SC_FD_ARG0 : 0;
    if (!flags) continue;
    if (bpf_map_update_elem(fd, &nr, &flags, BPF_ANY) != 0) {
      return Error{"cannot fill the syscall table map: " + ErrnoText(errno)};
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<WaitsProbe>> WaitsProbe::Start(const ProbeOptions& options) {
  InstallLibbpfLogger();
  std::unique_ptr<WaitsProbe> probe(new WaitsProbe());

  // tp_btf first (typed arguments, cheaper); raw_tp where BTF-typed
  // tracepoints are unavailable. Both work without kprobes or fentry.
  Result<waits_bpf*> loaded = OpenAndLoad(options, /*use_btf=*/true);
  probe->flavor_ = "tp_btf";
  if (!loaded.ok()) {
    spdlog::debug("tp_btf hooks unavailable ({}); trying raw_tp", loaded.error().message);
    std::string btf_error = loaded.error().message;
    loaded = OpenAndLoad(options, /*use_btf=*/false);
    probe->flavor_ = "raw_tp";
    if (!loaded.ok()) {
      return Error{"cannot load the tracing programs: with tp_btf " + btf_error + "; with raw_tp " +
                   loaded.error().message + " (run with -v to see the kernel's log)"};
    }
  }
  probe->skel_ = loaded.value();
  spdlog::debug("BPF hooks attached ({})", probe->flavor_);

  if (Status s = FillSyscallFlags(probe->skel_); !s.ok()) return s.error();
  Result<TracedSet> traced = TracedSet::Map(bpf_map__fd(probe->skel_->maps.traced_tgids));
  if (!traced.ok()) return traced.error();
  probe->traced_.emplace(std::move(traced.value()));

  probe->ring_ = ring_buffer__new(bpf_map__fd(probe->skel_->maps.events), &WaitsProbe::OnRingEvent,
                                  probe.get(), nullptr);
  if (!probe->ring_) return Error{"cannot open the event ring buffer: " + ErrnoText(errno)};
  return probe;
}

WaitsProbe::~WaitsProbe() {
  if (ring_) ring_buffer__free(ring_);
  if (skel_) waits_bpf__destroy(skel_);
}

void WaitsProbe::TracePid(std::uint32_t tgid) {
  traced_->Add(tgid);
}

bool WaitsProbe::IsTraced(std::uint32_t tgid) const {
  return traced_->Contains(tgid);
}

int WaitsProbe::OnRingEvent(void* ctx, void* data, std::size_t size) {
  auto* self = static_cast<WaitsProbe*>(ctx);
  if (self->handler_) self->handler_({static_cast<const std::byte*>(data), size});
  return 0;
}

Status WaitsProbe::Poll(int timeout_ms) {
  int n = ring_buffer__poll(ring_, timeout_ms);
  if (n < 0 && n != -EINTR) return Error{"reading the event ring buffer failed: " + ErrnoText(n)};
  return Status::Ok();
}

KernelCounters WaitsProbe::ReadCounters() const {
  KernelCounters c;
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return c;
  std::vector<std::uint64_t> values(static_cast<std::size_t>(ncpu));
  auto sum = [&](std::uint32_t idx) -> std::uint64_t {
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.counters), &idx, values.data()) != 0) return 0;
    std::uint64_t total = 0;
    for (std::uint64_t v : values) total += v;
    return total;
  };
  c.waits = sum(WS_CNT_WAITS);
  c.ringbuf_drops = sum(WS_CNT_RINGBUF_DROPS);
  c.agg_full = sum(WS_CNT_AGG_FULL);
  c.inflight_full = sum(WS_CNT_INFLIGHT_FULL);
  c.stacks_full = sum(WS_CNT_STACKS_FULL);
  c.stack_errors = sum(WS_CNT_STACK_ERRORS);
  c.tgids_full = sum(WS_CNT_TGIDS_FULL);
  return c;
}

std::vector<std::pair<ws_wait_key, ws_wait_val>> WaitsProbe::ReadWaits() const {
  std::vector<std::pair<ws_wait_key, ws_wait_val>> out;
  const int fd = bpf_map__fd(skel_->maps.waits);
  ws_wait_key key{};
  ws_wait_key next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    ws_wait_val val{};
    if (bpf_map_lookup_elem(fd, &next, &val) == 0) out.emplace_back(next, val);
    key = next;
    prev = &key;
  }
  return out;
}

std::optional<ws_stack> WaitsProbe::ReadStack(std::uint32_t tgid, std::uint64_t hash) const {
  ws_stack_key key{};
  key.tgid = tgid;
  key.hash = hash;
  ws_stack stack{};
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.stacks), &key, &stack) != 0) return std::nullopt;
  return stack;
}

}  // namespace waitscope
