#include "loader/probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "loader/libbpf_log.h"
#include "loader/ssl_places.h"
#include "loader/syscall_table.h"
#include "loader/uprobe_multi.h"
#include "waitscope.skel.h"

namespace waitscope {
namespace {

std::string ErrnoText(int err) {
  return std::strerror(err < 0 ? -err : err);
}

// The hook flavours (bpf/waitscope.bpf.c), in the order they are tried.
enum Flavor : unsigned { kSched = 1, kTpBtf = 2, kRawTp = 4 };

Flavor FlavorNamed(std::string_view name) {
  return name == "sched" ? kSched : name == "tp_btf" ? kTpBtf : kRawTp;
}

// Every tracepoint program in the skeleton and the flavours that load it.
// sched has no syscall program; tp_btf no sys_enter program.
struct HookProgram {
  bpf_program* prog;
  unsigned flavors;
  bool sockets_only = false;  // loaded only with the sockets family
};

std::vector<HookProgram> HookPrograms(waitscope_bpf* s) {
  return {{s->progs.raw_sys_enter, kRawTp},         {s->progs.btf_sys_exit, kTpBtf},
          {s->progs.raw_sys_exit, kRawTp},          {s->progs.sched_sched_switch, kSched},
          {s->progs.btf_sched_switch, kTpBtf},      {s->progs.raw_sched_switch, kRawTp},
          {s->progs.btf_fork, kSched | kTpBtf},     {s->progs.raw_fork, kRawTp},
          {s->progs.btf_exec, kSched | kTpBtf},     {s->progs.raw_exec, kRawTp},
          {s->progs.btf_exit, kSched | kTpBtf},     {s->progs.raw_exit, kRawTp},
          {s->progs.sched_set_state, kSched},       {s->progs.btf_set_state, kTpBtf},
          {s->progs.raw_set_state, kRawTp},         {s->progs.sched_sock_send, kSched, true},
          {s->progs.sched_sock_recv, kSched, true}, {s->progs.btf_send_reset, kSched | kTpBtf},
          {s->progs.raw_send_reset, kRawTp},        {s->progs.btf_receive_reset, kSched | kTpBtf},
          {s->progs.raw_receive_reset, kRawTp}};
}

// Runs the kernel skipped, summed over obj's loaded programs. A tracepoint
// or uprobe program does not run while it (or, for uprobes, any tracing
// program) is already running on the same CPU, for instance when a
// preemptible hook is preempted; the kernel counts each such run.
std::uint64_t RecursionMisses(const bpf_object* obj) {
  std::uint64_t n = 0;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, obj) {
    const int fd = bpf_program__fd(prog);
    if (fd < 0) continue;  // not loaded in this flavour
    bpf_prog_info info{};
    std::uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) n += info.recursion_misses;
  }
  return n;
}

// The kernel version as major * 1000 + minor, or 0.
unsigned KernelVersion() {
  utsname u{};
  unsigned major = 0;
  unsigned minor = 0;
  if (uname(&u) != 0 || std::sscanf(u.release, "%u.%u", &major, &minor) != 2) return 0;
  return major * 1000 + minor;
}

// thread_info.flags' TIF_NEED_FPU_LOAD (bpf/waits.bpf.h, "sched" flavour),
// or 0 where the sched flavour is not offered: x86-64 only (arm64's
// TIF_FOREIGN_FPSTATE means something else), and 6.18+, where x86 moved to
// the generic TIF bits (arch bits from 16; 14 before) and where
// bpf_task_work, which the flavour needs anyway, appeared.
// WAITSCOPE_TIF_NEED_FPU_LOAD_BIT=N overrides the bit (0..63): for a kernel
// that numbers its flags otherwise, and for the test that the start-up check
// below refuses a wrong one.
// Worked out once: each load attempt asks, and a bad value is warned about
// once.
std::uint64_t TifNeedFpuLoad() {
  static const std::uint64_t mask = []() -> std::uint64_t {
#if defined(__x86_64__)
    if (KernelVersion() < 6018) return std::uint64_t{0};
    if (const char* forced = std::getenv("WAITSCOPE_TIF_NEED_FPU_LOAD_BIT")) {
      unsigned bit = 0;
      char extra = 0;
      if (std::sscanf(forced, "%u%c", &bit, &extra) == 1 && bit < 64) return 1ULL << bit;
      spdlog::warn("ignoring WAITSCOPE_TIF_NEED_FPU_LOAD_BIT='{}' (not a bit number 0..63)",
                   forced);
    }
    return std::uint64_t{1} << 19;
#else
    return std::uint64_t{0};
#endif
  }();
  return mask;
}

// The sched flavour's start-up check of its syscall-boundary flag (see
// check_fpu_flag in bpf/waits.bpf.h): among the next context switches of
// user tasks, every one switching in must have the flag set, and blocking
// tasks must have it clear often enough (the first block of a syscall). The
// agent's own 1-ms sleeps make switches on an idle machine.
Status CheckFpuFlag(waitscope_bpf* skel) {
  constexpr std::uint64_t kMinIn = 64;
  constexpr std::uint64_t kMinOut = 32;
  auto* bss = skel->bss;
  auto load = [](auto& v) -> std::uint64_t { return std::atomic_ref(v).load(); };
  std::atomic_ref(bss->fpu_checks_left).store(4096);
  for (int ms = 0; ms < 1000; ++ms) {
    if (load(bss->fpu_checks_in) >= kMinIn && load(bss->fpu_checks_out) >= kMinOut) break;
    usleep(1000);
  }
  std::atomic_ref(bss->fpu_checks_left).store(0);
  const std::uint64_t in = load(bss->fpu_checks_in);
  const std::uint64_t in_set = load(bss->fpu_in_set);
  const std::uint64_t out = load(bss->fpu_checks_out);
  const std::uint64_t out_clear = load(bss->fpu_out_clear);
  const std::string counts = std::to_string(in_set) + " of " + std::to_string(in) +
                             " tasks switching in had it set, " + std::to_string(out_clear) +
                             " of " + std::to_string(out) + " blocking tasks had it clear";
  if (in < kMinIn || out < kMinOut) {
    spdlog::debug("TIF_NEED_FPU_LOAD check: too few context switches to tell ({})", counts);
    return Status::Ok();
  }
  if (in_set * 100 < in * 99 || out_clear * 20 < out) {
    return Error{"its syscall-boundary flag (thread_info bit " +
                 std::to_string(std::countr_zero(TifNeedFpuLoad())) +
                 ") does not behave as TIF_NEED_FPU_LOAD on this kernel: " + counts};
  }
  spdlog::debug("TIF_NEED_FPU_LOAD check passed: {}", counts);
  return Status::Ok();
}

// Opens, configures and loads the skeleton with one hook flavour, with or
// without the openssl uprobes. Returns the skeleton or a description of what
// the kernel refused.
// `ssl_multi`: the OpenSSL programs are loaded for uprobe_multi links.
Result<waitscope_bpf*> OpenAndLoad(const ProbeOptions& options, Flavor flavor, bool with_ssl,
                                   bool ssl_multi) {
  const bool use_btf = flavor != kRawTp;
  const bool sockets = options.capture_bytes > 0;
  if (flavor == kSched && TifNeedFpuLoad() == 0)
    return Error{"the sched hooks need x86-64 and Linux 6.18 or later"};
  waitscope_bpf* skel = waitscope_bpf__open();
  if (!skel) return Error{"cannot open the BPF object: " + ErrnoText(errno)};
  skel->rodata->min_stack_ns = options.min_stack_ns;
  skel->rodata->self_tgid = static_cast<std::uint32_t>(getpid());
  skel->rodata->trace_all = options.trace_all ? 1 : 0;
  skel->rodata->wait_event_min_ns = options.wait_event_min_ns.value_or(~0ULL);
  skel->rodata->sockets_enabled = options.capture_bytes > 0 ? 1 : 0;
  skel->rodata->ssl_enabled = with_ssl ? 1 : 0;
  skel->rodata->capture_bytes = std::min<std::uint32_t>(options.capture_bytes, WS_MAX_CAPTURE);
  skel->rodata->tif_need_fpu_load = flavor == kSched ? TifNeedFpuLoad() : 0;
  for (const HookProgram& h : HookPrograms(skel)) {
    bpf_program__set_autoload(h.prog, (h.flavors & flavor) != 0 && (sockets || !h.sockets_only));
  }
  // Per-thread syscall state: task storage for tp_btf, a tid-keyed hash for
  // raw_tp (bpf/waits.bpf.h, inflight_of). Only the one in use is created,
  // so kernels too old for task storage still load the raw_tp flavour.
  bpf_map__set_autocreate(skel->maps.inflight_task, use_btf);
  bpf_map__set_autocreate(skel->maps.inflight, !use_btf);
  // The openssl family's uprobes: loaded in both flavours, never
  // auto-attached (their SEC names have no target; Probe::AttachSsl attaches
  // them per file).
  for (SslProgram p : kSslPrograms) {
    bpf_program* prog = SslProgramHandle(skel, p);
    bpf_program__set_autoload(prog, with_ssl);
    bpf_program__set_autoattach(prog, false);
    if (with_ssl && ssl_multi) {
      bpf_program__set_expected_attach_type(prog, static_cast<bpf_attach_type>(kAttachUprobeMulti));
    }
  }
  // One capture buffer per CPU (see data_scratch in bpf/sockets.bpf.h).
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0 || bpf_map__set_max_entries(skel->maps.data_scratch, ncpu) != 0) {
    waitscope_bpf__destroy(skel);
    return Error{"cannot size the capture buffers for this machine's CPUs"};
  }
  if (bpf_map__set_max_entries(skel->maps.conns, options.max_connections) != 0 ||
      bpf_map__set_max_entries(skel->maps.conn_ctl, options.max_connections) != 0 ||
      bpf_map__set_max_entries(skel->maps.stacks, options.max_stacks) != 0) {
    waitscope_bpf__destroy(skel);
    return Error{"cannot size the connection and stack tables"};
  }
  if (int err = waitscope_bpf__load(skel); err != 0) {
    waitscope_bpf__destroy(skel);
    return Error{"the kernel refused to load them (" + ErrnoText(err) + ")"};
  }
  if (int err = waitscope_bpf__attach(skel); err != 0) {
    waitscope_bpf__destroy(skel);
    return Error{"the kernel refused to attach them (" + ErrnoText(err) + ")"};
  }
  if (flavor == kSched) {
    if (Status s = CheckFpuFlag(skel); !s.ok()) {
      waitscope_bpf__destroy(skel);
      return s.error();
    }
  }
  return skel;
}

// The per-syscall tables: what argument 0 is (waits) and what the syscall
// means for a socket (sockets), from this architecture's numbers.
Status FillSyscallTables(waitscope_bpf* skel) {
  const int flags_fd = bpf_map__fd(skel->maps.syscall_flags);
  const int sock_fd = bpf_map__fd(skel->maps.sock_syscalls);
  const std::uint32_t n = std::min<std::uint32_t>(SyscallTableSize(), WS_SYSCALL_TABLE_SIZE);
  for (std::uint32_t nr = 0; nr < n; ++nr) {
    const SyscallInfo& info = LookupSyscall(nr);
    std::uint8_t flags = (info.fd_arg0 ? WS_SC_FD_ARG0 : 0) | (info.poll_fds ? WS_SC_POLL_ONE : 0);
    if (flags && bpf_map_update_elem(flags_fd, &nr, &flags, BPF_ANY) != 0) {
      return Error{"cannot fill the syscall table map: " + ErrnoText(errno)};
    }
    std::uint8_t kind = info.sock_kind;
    if (kind != WS_SOCK_NONE && bpf_map_update_elem(sock_fd, &nr, &kind, BPF_ANY) != 0) {
      return Error{"cannot fill the socket syscall map: " + ErrnoText(errno)};
    }
  }
  return Status::Ok();
}

std::vector<std::uint64_t> SumPerCpu(int map_fd, std::uint32_t n) {
  std::vector<std::uint64_t> totals(n, 0);
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return totals;
  std::vector<std::uint64_t> values(static_cast<std::size_t>(ncpu));
  for (std::uint32_t idx = 0; idx < n; ++idx) {
    if (bpf_map_lookup_elem(map_fd, &idx, values.data()) != 0) continue;
    for (std::uint64_t v : values) totals[idx] += v;
  }
  return totals;
}

// Closing a tracepoint link waits in the kernel for an RCU grace period
// (~100 ms on our 6.x machines); one after another, the ~15 links of a
// trace took 1.6 s at every exit. Waiters of one grace period share it, so
// closing them all at once costs about one. (Classic uprobe links do not
// share theirs: each waits under the kernel's event_mutex; see
// loader/uprobe_multi.h.) `fds`: links held as bare descriptors.
void DestroyLinksConcurrently(const std::vector<bpf_link*>& links, const std::vector<int>& fds) {
  std::vector<std::jthread> closers;
  closers.reserve(links.size() + fds.size());
  auto close_concurrently = [&closers](auto close_one) {
    try {
      closers.emplace_back(close_one);
    } catch (const std::system_error&) {  // no thread to spare: close it here, slowly
      close_one();
    }
  };
  for (bpf_link* link : links) close_concurrently([link] { bpf_link__destroy(link); });
  for (int fd : fds) close_concurrently([fd] { close(fd); });
}

// WAITSCOPE_UPROBE_MULTI=0 attaches the OpenSSL uprobes the classic way
// (one perf-event link each) on kernels that have uprobe_multi links: the
// test suite runs that path too. Unset or empty: uprobe_multi when the
// kernel has it.
Result<bool> UprobeMultiAllowed() {
  const char* value = std::getenv("WAITSCOPE_UPROBE_MULTI");
  if (value == nullptr || *value == '\0') return true;
  if (std::string_view(value) == "0") return false;
  return Error{"WAITSCOPE_UPROBE_MULTI must be 0 or unset, not '" + std::string(value) + "'"};
}

// A loaded skeleton and what it ended up with.
struct LoadedProgs {
  waitscope_bpf* skel = nullptr;
  std::string flavor;      // "sched", "tp_btf" or "raw_tp"
  bool ssl = false;        // the openssl uprobes are loaded
  bool ssl_multi = false;  // ... for uprobe_multi links
};

// The first of `flavors` ("sched", "tp_btf", "raw_tp") the kernel loads, with the
// openssl uprobes when wanted; failing that, the first that loads without
// them (a kernel that refuses the uprobes still gets everything else, no
// plaintext). Neither flavour needs kprobes or fentry.
Result<LoadedProgs> LoadFirst(const ProbeOptions& options, bool want_ssl,
                              std::initializer_list<std::string_view> flavors) {
  std::string errors;  // of the attempts with the uprobes as wanted
  Result<bool> multi_allowed = UprobeMultiAllowed();
  if (!multi_allowed.ok()) return multi_allowed.error();
  const bool ssl_multi = want_ssl && multi_allowed.value() && KernelHasUprobeMulti();
  for (const bool ssl : {want_ssl, false}) {
    for (std::string_view flavor : flavors) {
      Result<waitscope_bpf*> loaded = OpenAndLoad(options, FlavorNamed(flavor), ssl, ssl_multi);
      if (loaded.ok()) {
        return LoadedProgs{loaded.value(), std::string(flavor), ssl, ssl && ssl_multi};
      }
      spdlog::debug("cannot load the {} hooks{} ({})", flavor,
                    ssl ? " with the OpenSSL uprobes" : "", loaded.error().message);
      if (ssl == want_ssl) {
        errors += (errors.empty() ? "with " : "; with ") + std::string(flavor) + " " +
                  loaded.error().message;
      }
    }
    if (!want_ssl) break;  // the second round would repeat the first
  }
  return Error{"cannot load the tracing programs: " + errors +
               " (run with -v to see the kernel's log)"};
}

// WAITSCOPE_HOOKS=sched|tp_btf|raw_tp pins the hook flavour instead of trying
// them in turn: the test suite runs the fallbacks on kernels that would never
// fall back to them, and a user can rule one flavour out when
// troubleshooting. Unset or empty: automatic.
Result<std::string_view> ForcedHookFlavor() {
  const char* value = std::getenv("WAITSCOPE_HOOKS");
  if (value == nullptr || *value == '\0') return std::string_view{};
  const std::string_view flavor = value;
  if (flavor == "sched" || flavor == "tp_btf" || flavor == "raw_tp") return flavor;
  return Error{"WAITSCOPE_HOOKS must be sched, tp_btf or raw_tp, not '" + std::string(flavor) +
               "'"};
}

}  // namespace

Result<std::unique_ptr<Probe>> Probe::Start(const ProbeOptions& options) {
  InstallLibbpfLogger();
  std::unique_ptr<Probe> probe(new Probe());

  const bool want_ssl = options.capture_bytes > 0;
  Result<std::string_view> forced = ForcedHookFlavor();
  if (!forced.ok()) return forced.error();
  // sched first: no syscall tracepoint; then tp_btf: typed arguments,
  // direct loads, task storage.
  Result<LoadedProgs> loaded = forced.value().empty()
                                   ? LoadFirst(options, want_ssl, {"sched", "tp_btf", "raw_tp"})
                                   : LoadFirst(options, want_ssl, {forced.value()});
  if (!loaded.ok() && !forced.value().empty()) {
    return Error{loaded.error().message + "; only " + std::string(forced.value()) +
                 " was tried (WAITSCOPE_HOOKS)"};
  }
  if (!loaded.ok()) return loaded.error();
  probe->skel_ = loaded.value().skel;
  probe->flavor_ = loaded.value().flavor;
  probe->ssl_enabled_ = loaded.value().ssl;
  probe->ssl_multi_ = loaded.value().ssl_multi;
  probe->sockets_enabled_ = options.capture_bytes > 0;
  spdlog::debug("BPF hooks attached ({}{})", probe->flavor_,
                !probe->ssl_enabled_ ? ""
                : probe->ssl_multi_  ? ", OpenSSL uprobes loaded for uprobe_multi links"
                                     : ", OpenSSL uprobes loaded");

  if (Status s = FillSyscallTables(probe->skel_); !s.ok()) return s.error();
  Result<TracedSet> traced = TracedSet::Map(bpf_map__fd(probe->skel_->maps.traced_tgids));
  if (!traced.ok()) return traced.error();
  probe->traced_.emplace(std::move(traced.value()));

  // One ring_buffer manager over both maps: one poll serves both families.
  probe->ring_ = ring_buffer__new(bpf_map__fd(probe->skel_->maps.events), &Probe::OnWaitsEvent,
                                  probe.get(), nullptr);
  if (!probe->ring_ || ring_buffer__add(probe->ring_, bpf_map__fd(probe->skel_->maps.sock_events),
                                        &Probe::OnSocketsEvent, probe.get()) != 0) {
    return Error{"cannot open the event ring buffers: " + ErrnoText(errno)};
  }
  return probe;
}

Probe::~Probe() {
  std::vector<bpf_link*> links = std::move(ssl_links_);
  if (skel_) {
    // Taken out of the skeleton so its destroy finds them already gone.
    const bpf_object_skeleton* s = skel_->skeleton;
    for (int i = 0; i < s->prog_cnt; ++i) {
      const auto* prog = reinterpret_cast<const bpf_prog_skeleton*>(
          reinterpret_cast<const char*>(s->progs) + static_cast<std::size_t>(i) * s->prog_skel_sz);
      if (*prog->link != nullptr) links.push_back(std::exchange(*prog->link, nullptr));
    }
  }
  DestroyLinksConcurrently(links, ssl_link_fds_);
  if (ring_) ring_buffer__free(ring_);
  if (skel_) waitscope_bpf__destroy(skel_);
}

void Probe::TracePid(std::uint32_t tgid) {
  traced_->Add(tgid);
}

bool Probe::IsTraced(std::uint32_t tgid) const {
  return traced_->Contains(tgid);
}

int Probe::OnWaitsEvent(void* ctx, void* data, std::size_t size) {
  auto* self = static_cast<Probe*>(ctx);
  if (self->waits_handler_) self->waits_handler_({static_cast<const std::byte*>(data), size});
  return 0;
}

int Probe::OnSocketsEvent(void* ctx, void* data, std::size_t size) {
  auto* self = static_cast<Probe*>(ctx);
  if (self->sockets_handler_) self->sockets_handler_({static_cast<const std::byte*>(data), size});
  return 0;
}

Status Probe::Poll(int timeout_ms) {
  // Socket events are sent without waking us (see sock_wakeup_flag in
  // bpf/sockets.bpf.h), so epoll only returns early for the rare waits
  // events or a filling ring; drain both rings after every wait anyway.
  int n = ring_buffer__poll(ring_, timeout_ms);
  if (n < 0 && n != -EINTR) return Error{"reading the event ring buffers failed: " + ErrnoText(n)};
  n = ring_buffer__consume(ring_);
  if (n < 0 && n != -EINTR) return Error{"reading the event ring buffers failed: " + ErrnoText(n)};
  return Status::Ok();
}

KernelCounters Probe::ReadCounters() const {
  const std::vector<std::uint64_t> v = SumPerCpu(bpf_map__fd(skel_->maps.counters), WS_CNT_MAX);
  KernelCounters c;
  c.waits = v[WS_CNT_WAITS];
  c.ringbuf_drops = v[WS_CNT_RINGBUF_DROPS];
  c.agg_full = v[WS_CNT_AGG_FULL];
  c.inflight_full = v[WS_CNT_INFLIGHT_FULL];
  c.stacks_full = v[WS_CNT_STACKS_FULL];
  c.stack_errors = v[WS_CNT_STACK_ERRORS];
  c.tgids_full = v[WS_CNT_TGIDS_FULL];
  c.unseen_switch_ins = v[WS_CNT_UNSEEN_SWITCH_IN];
  c.hook_misses = RecursionMisses(skel_->obj);
  return c;
}

SocketCounters Probe::ReadSocketCounters() const {
  const std::vector<std::uint64_t> v =
      SumPerCpu(bpf_map__fd(skel_->maps.sock_counters), WS_SCNT_MAX);
  SocketCounters c;
  c.data_events = v[WS_SCNT_DATA_EVENTS];
  c.ringbuf_drops = v[WS_SCNT_RINGBUF_DROPS];
  c.bytes_truncated = v[WS_SCNT_BYTES_TRUNCATED];
  c.conns_full = v[WS_SCNT_CONNS_FULL];
  c.ssl_data_events = v[WS_SCNT_SSL_DATA_EVENTS];
  c.ssl_ringbuf_drops = v[WS_SCNT_SSL_RINGBUF_DROPS];
  c.ssl_bytes_truncated = v[WS_SCNT_SSL_BYTES_TRUNCATED];
  c.ssl_inflight_lost = v[WS_SCNT_SSL_INFLIGHT_LOST];
  c.ssl_unknown_conn = v[WS_SCNT_SSL_UNKNOWN_CONN];
  c.ssl_conns_full = v[WS_SCNT_SSL_CONNS_FULL];
  return c;
}

namespace {

// Deletes every key of a hash map (get_next_key restarts from the first key
// after each delete, so nothing is skipped).
template <typename Key>
void DeleteAll(int fd) {
  Key key{};
  while (bpf_map_get_next_key(fd, nullptr, &key) == 0) {
    if (bpf_map_delete_elem(fd, &key) != 0) break;
  }
}

}  // namespace

void Probe::ClearAggregates() {
  DeleteAll<ws_wait_key>(bpf_map__fd(skel_->maps.waits));
  DeleteAll<ws_stack_key>(bpf_map__fd(skel_->maps.stacks));
}

std::vector<std::pair<ws_wait_key, ws_wait_val>> Probe::ReadWaits() const {
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

std::optional<ws_stack> Probe::ReadStack(std::uint32_t tgid, std::uint64_t hash) const {
  ws_stack_key key{};
  key.tgid = tgid;
  key.hash = hash;
  ws_stack stack{};
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.stacks), &key, &stack) != 0) return std::nullopt;
  return stack;
}

void Probe::PostConnFlags(std::uint32_t tgid, std::int32_t fd, std::uint64_t conn_id,
                          std::uint32_t flags) {
  // conn_ctl is written only here, so this read-modify-write is safe (the
  // kernel only deletes entries, at close); the connection's own state is
  // the kernel's alone. See ws_conn_ctl.
  const int map = bpf_map__fd(skel_->maps.conn_ctl);
  const ws_conn_key key{tgid, fd};
  ws_conn_ctl ctl{};
  if (bpf_map_lookup_elem(map, &key, &ctl) != 0 || ctl.conn_id != conn_id) ctl = {conn_id, 0, 0};
  ctl.flags |= flags;
  if (bpf_map_update_elem(map, &key, &ctl, BPF_ANY) != 0) {
    spdlog::debug("cannot post flags {:#x} for connection {} (pid {} fd {}): {}", flags, conn_id,
                  tgid, fd, ErrnoText(errno));
    return;
  }
  // After the update: a program that sees the new generation finds the entry.
  __atomic_fetch_add(&skel_->bss->conn_ctl_gen, 1, __ATOMIC_RELEASE);
}

void Probe::StopCapture(std::uint32_t tgid, std::int32_t fd, std::uint64_t conn_id) {
  PostConnFlags(tgid, fd, conn_id, WS_CONN_NO_CAPTURE);
}

void Probe::StopPlaintext(std::uint32_t tgid, std::int32_t fd, std::uint64_t conn_id) {
  PostConnFlags(tgid, fd, conn_id, WS_CONN_NO_PLAINTEXT);
}

void Probe::ForgetConnections(std::uint32_t tgid, std::span<const std::int32_t> fds) {
  for (const std::int32_t fd : fds) {
    const ws_conn_key key{tgid, fd};
    // ENOENT is fine: the kernel saw a close, or never had the entry.
    bpf_map_delete_elem(bpf_map__fd(skel_->maps.conns), &key);
    bpf_map_delete_elem(bpf_map__fd(skel_->maps.conn_ctl), &key);
  }
}

Status Probe::AttachSsl(const std::string& path, std::span<const SslFunctionOffset> functions) {
  if (!ssl_enabled_) return Error{"the OpenSSL probes are not loaded"};
  std::vector<bpf_link*> attached;
  std::vector<int> attached_fds;
  auto fail = [&](const std::string& what, const std::string& why) -> Status {
    DestroyLinksConcurrently(attached, attached_fds);
    return Error{"cannot attach the OpenSSL probes to " + path + " (" + what + "): " + why};
  };
  // One uprobe_multi link per program, or one classic link per place; each
  // program once per place (ssl_places.h).
  for (const ProgramPlaces& places : GroupSslPlaces(functions)) {
    bpf_program* prog = SslProgramHandle(skel_, places.program);
    if (ssl_multi_) {
      Result<int> fd =
          AttachUprobeMulti(bpf_program__fd(prog), path, places.offsets, places.retprobe);
      if (!fd.ok()) return fail(bpf_program__name(prog), fd.error().message);
      attached_fds.push_back(fd.value());
      continue;
    }
    for (std::uint64_t offset : places.offsets) {
      LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = places.retprobe);
      // pid -1: every process mapping the file; the programs filter.
      bpf_link* link = bpf_program__attach_uprobe_opts(prog, -1, path.c_str(), offset, &opts);
      if (!link) return fail(bpf_program__name(prog), ErrnoText(errno));
      attached.push_back(link);
    }
  }
  ssl_links_.insert(ssl_links_.end(), attached.begin(), attached.end());
  ssl_link_fds_.insert(ssl_link_fds_.end(), attached_fds.begin(), attached_fds.end());
  return Status::Ok();
}

}  // namespace waitscope
