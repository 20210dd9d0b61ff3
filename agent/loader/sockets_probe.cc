#include "loader/sockets_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "loader/libbpf_log.h"
#include "loader/syscall_table.h"
#include "sockets.skel.h"

namespace waitscope {
namespace {

std::string ErrnoText(int err) {
  return std::strerror(err < 0 ? -err : err);
}

Result<sockets_bpf*> OpenAndLoad(const SocketsProbeOptions& options, int traced_map_fd,
                                 bool use_btf) {
  sockets_bpf* skel = sockets_bpf__open();
  if (!skel) return Error{"cannot open the socket BPF object: " + ErrnoText(errno)};
  skel->rodata->capture_bytes = std::min<std::uint32_t>(options.capture_bytes, WS_MAX_CAPTURE);
  skel->rodata->self_tgid = static_cast<std::uint32_t>(getpid());
  skel->rodata->trace_all = options.trace_all ? 1 : 0;
  const std::pair<bpf_program*, bpf_program*> pairs[] = {
      {skel->progs.btf_sock_enter, skel->progs.raw_sock_enter},
      {skel->progs.btf_sock_exit, skel->progs.raw_sock_exit},
      {skel->progs.btf_set_state, skel->progs.raw_set_state}};
  for (auto [btf_prog, raw_prog] : pairs) {
    bpf_program__set_autoload(btf_prog, use_btf);
    bpf_program__set_autoload(raw_prog, !use_btf);
  }
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0 || bpf_map__set_max_entries(skel->maps.data_scratch, ncpu) != 0) {
    sockets_bpf__destroy(skel);
    return Error{"cannot size the capture buffers for this machine's CPUs"};
  }
  if (int err = bpf_map__reuse_fd(skel->maps.traced_tgids, traced_map_fd); err != 0) {
    sockets_bpf__destroy(skel);
    return Error{"cannot share the traced-process set (" + ErrnoText(err) + ")"};
  }
  if (int err = sockets_bpf__load(skel); err != 0) {
    sockets_bpf__destroy(skel);
    return Error{"the kernel refused to load them (" + ErrnoText(err) + ")"};
  }
  if (int err = sockets_bpf__attach(skel); err != 0) {
    sockets_bpf__destroy(skel);
    return Error{"the kernel refused to attach them (" + ErrnoText(err) + ")"};
  }
  return skel;
}

Status FillSocketSyscalls(sockets_bpf* skel) {
  const int fd = bpf_map__fd(skel->maps.sock_syscalls);
  const std::uint32_t n = std::min<std::uint32_t>(SyscallTableSize(), WS_SYSCALL_TABLE_SIZE);
  for (std::uint32_t nr = 0; nr < n; ++nr) {
    std::uint8_t kind = LookupSyscall(nr).sock_kind;
    if (kind == WS_SOCK_NONE) continue;
    if (bpf_map_update_elem(fd, &nr, &kind, BPF_ANY) != 0) {
      return Error{"cannot fill the socket syscall map: " + ErrnoText(errno)};
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SocketsProbe>> SocketsProbe::Start(const SocketsProbeOptions& options,
                                                          int traced_map_fd) {
  InstallLibbpfLogger();
  std::unique_ptr<SocketsProbe> probe(new SocketsProbe());
  Result<sockets_bpf*> loaded = OpenAndLoad(options, traced_map_fd, /*use_btf=*/true);
  probe->flavor_ = "tp_btf";
  if (!loaded.ok()) {
    std::string btf_error = loaded.error().message;
    spdlog::debug("socket tp_btf hooks unavailable ({}); trying raw_tp", btf_error);
    loaded = OpenAndLoad(options, traced_map_fd, /*use_btf=*/false);
    probe->flavor_ = "raw_tp";
    if (!loaded.ok()) {
      return Error{"cannot load the socket tracing programs: with tp_btf " + btf_error +
                   "; with raw_tp " + loaded.error().message + " (run with -v for details)"};
    }
  }
  probe->skel_ = loaded.value();
  if (Status s = FillSocketSyscalls(probe->skel_); !s.ok()) return s.error();
  probe->ring_ = ring_buffer__new(bpf_map__fd(probe->skel_->maps.sock_events),
                                  &SocketsProbe::OnRingEvent, probe.get(), nullptr);
  if (!probe->ring_) return Error{"cannot open the socket event ring buffer: " + ErrnoText(errno)};
  spdlog::debug("socket hooks attached ({})", probe->flavor_);
  return probe;
}

SocketsProbe::~SocketsProbe() {
  if (ring_) ring_buffer__free(ring_);
  if (skel_) sockets_bpf__destroy(skel_);
}

int SocketsProbe::OnRingEvent(void* ctx, void* data, std::size_t size) {
  auto* self = static_cast<SocketsProbe*>(ctx);
  if (self->handler_) self->handler_({static_cast<const std::byte*>(data), size});
  return 0;
}

Status SocketsProbe::Poll(int timeout_ms) {
  int n = ring_buffer__poll(ring_, timeout_ms);
  if (n < 0 && n != -EINTR) return Error{"reading the socket ring buffer failed: " + ErrnoText(n)};
  return Status::Ok();
}

SocketCounters SocketsProbe::ReadCounters() const {
  SocketCounters c;
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return c;
  std::vector<std::uint64_t> values(static_cast<std::size_t>(ncpu));
  auto sum = [&](std::uint32_t idx) -> std::uint64_t {
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.sock_counters), &idx, values.data()) != 0) {
      return 0;
    }
    std::uint64_t total = 0;
    for (std::uint64_t v : values) total += v;
    return total;
  };
  c.data_events = sum(WS_SCNT_DATA_EVENTS);
  c.ringbuf_drops = sum(WS_SCNT_RINGBUF_DROPS);
  c.bytes_truncated = sum(WS_SCNT_BYTES_TRUNCATED);
  c.conns_full = sum(WS_SCNT_CONNS_FULL);
  return c;
}

void SocketsProbe::StopCapture(std::uint32_t tgid, std::int32_t fd, std::uint64_t conn_id) {
  ws_conn_key key{tgid, fd};
  ws_conn_state st{};
  const int map = bpf_map__fd(skel_->maps.conns);
  if (bpf_map_lookup_elem(map, &key, &st) != 0 || st.conn_id != conn_id) return;
  st.flags |= WS_CONN_NO_CAPTURE;
  // BPF_EXIST: never resurrect an entry the kernel removed meanwhile.
  bpf_map_update_elem(map, &key, &st, BPF_EXIST);
}

}  // namespace waitscope
