// uprobe_floor: what one uprobe hit costs on this machine, by the kind of
// instruction at the probed address and by probe mode (none, entry,
// uretprobe, both). Benchmark only (BENCHMARKS.md), never under ctest.
//
//   uprobe_floor [--calls N] [--runs R] [--cpu C] [--site NAME]... [--self-pid] [--no-ssl]
//
// Why: waitscope's TLS probes sit on the first instruction of libssl's
// SSL_read & co. On x86 the kernel emulates a few instructions at a probe
// site (push, call, jmp, some nops); any other one (SSL_read starts with
// `sub $0x18,%rsp`) is single-stepped out of line: a debug trap on top of
// the int3 trap. A uretprobe is an entry probe too (it swaps the return
// address there) plus a return trampoline. Kernels with the uprobe syscall
// (6.18+) also rewrite a probed nop5 into a call to a trampoline after the
// first hit, so it takes no trap at all.
//
// The candidate instructions sit at known addresses (asm below, so the
// compiler cannot change them); tools/bench/uprobe_floor.bpf.c's programs
// only count hits. For each site and mode the function is called --calls
// times pinned to one CPU; the table gives the median over --runs of thread
// CPU and wall ns per call and what the probes add. The BPF counters must
// equal calls x probes, else the cell says COUNT MISMATCH. "bytes probed" is
// the site as this process sees it once probed (cc = int3, e8 = call to the
// uprobe trampoline); FOREIGN PROBE marks a cell measured while someone
// else's uprobe sat on that function (see `bpftool perf`). With libssl.so.3
// present the real SSL_read and SSL_read_ex are probed too (on an SSL
// object without a connection, which fails fast). A first line gives the
// raw int3 and single-step trap costs without uprobes, to tell a slow
// machine from a slow uprobe path.
//
// Own-binary sites are attached with pid -1, like waitscope; libssl sites
// with this process's pid so that other processes are not trapped.
// --self-pid uses our pid everywhere (to see what the pid filter costs).
// Needs root.
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <sched.h>
#include <signal.h>
#include <sys/ucontext.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "uprobe_floor.skel.h"

#if !defined(__x86_64__)
#error "uprobe_floor measures x86-64 probe-site instructions"
#endif

// Probe-site functions: uint64_t f(uint64_t x) returns x. The comment on
// each probed instruction gives its offset from the symbol.
asm(R"(
  .pushsection .text
  .p2align 4
.Luf_helper:
  mov %rdi, %rax
  ret

  .p2align 4
  .globl uf_sub
  .hidden uf_sub
  .type uf_sub, @function
uf_sub:
  sub $0x18, %rsp          # +0: like SSL_read, SSL_read_ex
  call .Luf_helper         # +4: like SSL_read_ex+4
  add $0x18, %rsp
  ret
  .size uf_sub, .-uf_sub

  .p2align 4
  .globl uf_push
  .hidden uf_push
  .type uf_push, @function
uf_push:
  push %rbp                # +0
  mov %rsp, %rbp           # +1
  mov %rdi, %rax
  pop %rbp
  ret
  .size uf_push, .-uf_push

  .p2align 4
  .globl uf_push_r13
  .hidden uf_push_r13
  .type uf_push_r13, @function
uf_push_r13:
  push %r13                # +0: REX push, like libssl's ssl_read_internal
  mov %rdi, %rax
  pop %r13
  ret
  .size uf_push_r13, .-uf_push_r13

  .p2align 4
  .globl uf_nop5
  .hidden uf_nop5
  .type uf_nop5, @function
uf_nop5:
  .byte 0x0f, 0x1f, 0x44, 0x00, 0x00   # +0: nopl 0x0(%rax,%rax,1)
  mov %rdi, %rax
  ret
  .size uf_nop5, .-uf_nop5

  .p2align 4
  .globl uf_call
  .hidden uf_call
  .type uf_call, @function
uf_call:
  call .Luf_helper         # +0
  ret
  .size uf_call, .-uf_call

  .p2align 4
  .globl uf_endbr
  .hidden uf_endbr
  .type uf_endbr, @function
uf_endbr:
  endbr64                  # +0: first instruction of CET-built libraries
  mov %rdi, %rax
  ret
  .size uf_endbr, .-uf_endbr
  .popsection
)");

extern "C" {
std::uint64_t uf_sub(std::uint64_t);
std::uint64_t uf_push(std::uint64_t);
std::uint64_t uf_push_r13(std::uint64_t);
std::uint64_t uf_nop5(std::uint64_t);
std::uint64_t uf_call(std::uint64_t);
std::uint64_t uf_endbr(std::uint64_t);
}

namespace {

using waitscope::Error;
using waitscope::Result;
using waitscope::Status;

enum Mode { kNone, kEntry, kReturn, kBoth, kModeCount };
constexpr const char* kModeNames[kModeCount] = {"none", "entry", "return", "entry+return"};

struct Options {
  std::uint64_t calls = 100000;
  int runs = 5;
  int cpu = 1;
  bool self_pid = false;
  bool ssl = true;
  std::vector<std::string> only;  // site names; empty = all
};

// One probe site: `call(ctx, x)` runs `function`, which contains `address`.
struct Site {
  std::string name;
  std::string insn;
  const std::uint8_t* function;
  const std::uint8_t* address;
  std::uint64_t (*call)(void* ctx, std::uint64_t x);
  void* ctx;
  bool foreign;   // in a shared library other processes may also map
  bool at_entry;  // a uretprobe needs the return address on top of the stack
};

struct Median {
  bool measured = false;
  double cpu_ns = 0;
  double wall_ns = 0;
  bool counts_ok = true;
  bool foreign_probe = false;
};

struct LinkDeleter {
  void operator()(bpf_link* link) const { bpf_link__destroy(link); }
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

struct SkelDeleter {
  void operator()(uprobe_floor_bpf* skel) const { uprobe_floor_bpf__destroy(skel); }
};
using SkelPtr = std::unique_ptr<uprobe_floor_bpf, SkelDeleter>;

struct FileLocation {
  std::string path;
  std::uint64_t offset = 0;
};

// Where `address` lives in the file mapped there, from /proc/self/maps.
Result<FileLocation> FileLocationOf(const void* address) {
  const auto addr = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::uintptr_t start = 0, end = 0;
    std::uint64_t offset = 0;
    char perms[8] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " %7s %" SCNx64 " %*s %*s %n", &start,
                    &end, perms, &offset, &path_at) < 4 ||
        addr < start || addr >= end) {
      continue;
    }
    if (path_at == 0 || line[path_at] != '/') {
      return Error{"address " + std::to_string(addr) + " is not in a file mapping"};
    }
    return FileLocation{line.substr(path_at), addr - start + offset};
  }
  return Error{"address " + std::to_string(addr) + " is not in /proc/self/maps"};
}

bool KernelHasSymbol(const std::string& name) {
  std::ifstream syms("/proc/kallsyms");
  std::string line;
  while (std::getline(syms, line)) {
    if (line.size() > name.size() &&
        line.compare(line.size() - name.size(), name.size(), name) == 0 &&
        line[line.size() - name.size() - 1] == ' ') {
      return true;
    }
  }
  return false;
}

std::string Hex(const std::uint8_t* p, int n) {
  std::string out;
  char buf[4];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", p[i]);
    out += buf;
  }
  return out;
}

std::uint64_t NowNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + ts.tv_nsec;
}

// Ends the single-step that MeasureRawTraps starts: clears TF in the
// interrupted context. (int3 needs nothing: it resumes after the int3.)
void OnTrap(int, siginfo_t*, void* context) {
  static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_EFL] &= ~0x100LL;
}

struct RawTraps {
  double int3_ns = 0;
  double step_ns = 0;
};

// What this machine charges for the two traps an out-of-line uprobe takes,
// without uprobes: an int3 (#BP) and a TF single-step (#DB), each delivered
// to user space as SIGTRAP (so both include the same signal round trip).
// In a VM the #DB path can be far dearer than the #BP one.
RawTraps MeasureRawTraps(std::uint64_t n) {
  struct sigaction on_trap {};
  struct sigaction old {};
  on_trap.sa_sigaction = OnTrap;
  on_trap.sa_flags = SA_SIGINFO;
  sigaction(SIGTRAP, &on_trap, &old);
  const std::uint64_t t0 = NowNs(CLOCK_THREAD_CPUTIME_ID);
  for (std::uint64_t i = 0; i < n; ++i) asm volatile("int3" ::: "memory");
  const std::uint64_t t1 = NowNs(CLOCK_THREAD_CPUTIME_ID);
  for (std::uint64_t i = 0; i < n; ++i) {
    asm volatile("pushf; orq $0x100, (%%rsp); popf; nop" ::: "memory", "cc");
  }
  const std::uint64_t t2 = NowNs(CLOCK_THREAD_CPUTIME_ID);
  sigaction(SIGTRAP, &old, nullptr);
  const double calls = static_cast<double>(n);
  return {static_cast<double>(t1 - t0) / calls, static_cast<double>(t2 - t1) / calls};
}

using AsmFunction = std::uint64_t (*)(std::uint64_t);

std::uint64_t CallAsm(void* fn, std::uint64_t x) {
  return reinterpret_cast<AsmFunction>(fn)(x);
}

Site AsmSite(const char* name, const char* insn, AsmFunction fn, int offset) {
  return Site{.name = name,
              .insn = insn,
              .function = reinterpret_cast<const std::uint8_t*>(fn),
              .address = reinterpret_cast<const std::uint8_t*>(fn) + offset,
              .call = CallAsm,
              .ctx = reinterpret_cast<void*>(fn),
              .foreign = false,
              .at_entry = offset == 0};
}

// libssl, loaded at run time so the benchmark does not depend on it: an SSL
// object without a connection, on which SSL_read/SSL_read_ex fail at once.
class Libssl {
 public:
  static std::unique_ptr<Libssl> Open() {
    void* dl = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!dl) return nullptr;
    auto lib = std::unique_ptr<Libssl>(new Libssl(dl));
    auto method = reinterpret_cast<void* (*)()>(dlsym(dl, "TLS_method"));
    auto ctx_new = reinterpret_cast<void* (*)(void*)>(dlsym(dl, "SSL_CTX_new"));
    auto ssl_new = reinterpret_cast<void* (*)(void*)>(dlsym(dl, "SSL_new"));
    lib->ctx_free_ = reinterpret_cast<void (*)(void*)>(dlsym(dl, "SSL_CTX_free"));
    lib->ssl_free_ = reinterpret_cast<void (*)(void*)>(dlsym(dl, "SSL_free"));
    lib->read_ = reinterpret_cast<int (*)(void*, void*, int)>(dlsym(dl, "SSL_read"));
    lib->read_ex_ = reinterpret_cast<int (*)(void*, void*, std::size_t, std::size_t*)>(
        dlsym(dl, "SSL_read_ex"));
    lib->err_clear_ = reinterpret_cast<void (*)()>(dlsym(dl, "ERR_clear_error"));
    if (!method || !ctx_new || !ssl_new || !lib->ctx_free_ || !lib->ssl_free_ || !lib->read_ ||
        !lib->read_ex_ || !lib->err_clear_) {
      return nullptr;
    }
    lib->ctx_ = ctx_new(method());
    lib->ssl_ = lib->ctx_ ? ssl_new(lib->ctx_) : nullptr;
    return lib->ssl_ ? std::move(lib) : nullptr;
  }
  ~Libssl() {
    if (ssl_) ssl_free_(ssl_);
    if (ctx_) ctx_free_(ctx_);
    dlclose(dl_);
  }
  Libssl(const Libssl&) = delete;
  Libssl& operator=(const Libssl&) = delete;

  // SSL_read or SSL_read_ex (`ex`), probed at `offset`.
  Site ReadSite(const char* name, bool ex, int offset) {
    const auto* fn = ex ? reinterpret_cast<const std::uint8_t*>(read_ex_)
                        : reinterpret_cast<const std::uint8_t*>(read_);
    return Site{.name = name,
                .insn = "(libssl)",
                .function = fn,
                .address = fn + offset,
                .call = ex ? ReadEx : Read,
                .ctx = this,
                .foreign = true,
                .at_entry = offset == 0};
  }
  // The error each failed call queues is cleared so the queue stays small.
  static std::uint64_t Read(void* self, std::uint64_t) {
    auto* lib = static_cast<Libssl*>(self);
    char buf[16];
    const int n = lib->read_(lib->ssl_, buf, sizeof buf);
    lib->err_clear_();
    return static_cast<std::uint64_t>(n);
  }
  static std::uint64_t ReadEx(void* self, std::uint64_t) {
    auto* lib = static_cast<Libssl*>(self);
    char buf[16];
    std::size_t got = 0;
    const int n = lib->read_ex_(lib->ssl_, buf, sizeof buf, &got);
    lib->err_clear_();
    return static_cast<std::uint64_t>(n);
  }

 private:
  explicit Libssl(void* dl) : dl_(dl) {}
  void* dl_;
  void* ctx_ = nullptr;
  void* ssl_ = nullptr;
  void (*ctx_free_)(void*) = nullptr;
  void (*ssl_free_)(void*) = nullptr;
  int (*read_)(void*, void*, int) = nullptr;
  int (*read_ex_)(void*, void*, std::size_t, std::size_t*) = nullptr;
  void (*err_clear_)() = nullptr;
};

class Bench {
 public:
  Bench(uprobe_floor_bpf* skel, const Options& opts) : skel_(skel), opts_(opts) {}

  // Attaches `mode`'s probes to `site` (none for kNone); they stay attached
  // while the returned links live.
  Result<std::vector<LinkPtr>> Attach(const Site& site, Mode mode) {
    std::vector<LinkPtr> links;
    if (mode == kNone) return links;
    auto where = FileLocationOf(site.address);
    if (!where) return where.error();
    const int pid = (opts_.self_pid || site.foreign) ? static_cast<int>(getpid()) : -1;
    for (bool ret : {false, true}) {
      if (ret ? mode == kEntry : mode == kReturn) continue;
      LIBBPF_OPTS(bpf_uprobe_opts, uopts, .retprobe = ret);
      bpf_program* prog = ret ? skel_->progs.floor_return : skel_->progs.floor_entry;
      bpf_link* link =
          bpf_program__attach_uprobe_opts(prog, pid, where->path.c_str(), where->offset, &uopts);
      if (!link) {
        return Error{"cannot attach to " + where->path + "+" + std::to_string(where->offset) +
                     ": " + std::strerror(errno)};
      }
      links.emplace_back(link);
    }
    return links;
  }

  // `bytes_seen` gets the site's first bytes as this process sees them once
  // probed and warmed up (cc = int3 trap, e8 = call to the uprobe trampoline).
  // Flags the result when someone else's uprobe sat on the function before
  // or after (an int3 we did not put there): e.g. a waitscope run attached to
  // every process's libssl, whose traps would be counted as ours.
  Result<Median> Measure(const Site& site, Mode mode, std::string* bytes_seen) {
    const bool foreign_before = ForeignProbe(site);
    auto m = MeasureAttached(site, mode, bytes_seen);
    if (m && (foreign_before || ForeignProbe(site))) m->foreign_probe = true;
    return m;
  }

 private:
  static bool ForeignProbe(const Site& site) {
    constexpr std::uint8_t kInt3 = 0xcc;
    return site.function[0] == kInt3 || site.address[0] == kInt3;
  }

  Result<Median> MeasureAttached(const Site& site, Mode mode, std::string* bytes_seen) {
    auto links = Attach(site, mode);
    if (!links) return links.error();
    // Warm-up: first-hit work (XOL area, nop5 optimization, page faults).
    Loop(site, 1000);
    *bytes_seen = Hex(site.address, 5);
    std::vector<double> cpu, wall;
    Median m;
    m.measured = true;
    for (int r = 0; r < opts_.runs; ++r) {
      if (Status st = ResetCounts(); !st) return st.error();
      const std::uint64_t c0 = NowNs(CLOCK_THREAD_CPUTIME_ID), w0 = NowNs(CLOCK_MONOTONIC);
      Loop(site, opts_.calls);
      const std::uint64_t c1 = NowNs(CLOCK_THREAD_CPUTIME_ID), w1 = NowNs(CLOCK_MONOTONIC);
      cpu.push_back(static_cast<double>(c1 - c0) / static_cast<double>(opts_.calls));
      wall.push_back(static_cast<double>(w1 - w0) / static_cast<double>(opts_.calls));
      const std::uint64_t want_entry = (mode == kEntry || mode == kBoth) ? opts_.calls : 0;
      const std::uint64_t want_return = (mode == kReturn || mode == kBoth) ? opts_.calls : 0;
      if (Count(0) != want_entry || Count(1) != want_return) {
        std::fprintf(stderr,
                     "uprobe_floor: %s %s run %d: counted %" PRIu64 " entries, %" PRIu64
                     " returns, want %" PRIu64 ", %" PRIu64 "\n",
                     site.name.c_str(), kModeNames[mode], r, Count(0), Count(1), want_entry,
                     want_return);
        m.counts_ok = false;
      }
    }
    std::sort(cpu.begin(), cpu.end());
    std::sort(wall.begin(), wall.end());
    m.cpu_ns = cpu[cpu.size() / 2];
    m.wall_ns = wall[wall.size() / 2];
    return m;
  }

  static void Loop(const Site& site, std::uint64_t n) {
    std::uint64_t sink = 0;
    for (std::uint64_t i = 0; i < n; ++i) sink += site.call(site.ctx, i);
    asm volatile("" : : "r"(sink));
  }

  Status ResetCounts() {
    const std::uint64_t zero = 0;
    for (std::uint32_t slot : {0u, 1u}) {
      if (bpf_map__update_elem(skel_->maps.counts, &slot, sizeof slot, &zero, sizeof zero, 0)) {
        return Error{std::string("cannot reset the counters: ") + std::strerror(errno)};
      }
    }
    return Status::Ok();
  }

  std::uint64_t Count(std::uint32_t slot) {
    std::uint64_t n = 0;
    bpf_map__lookup_elem(skel_->maps.counts, &slot, sizeof slot, &n, sizeof n, 0);
    return n;
  }

  uprobe_floor_bpf* skel_;
  const Options& opts_;
};

bool ParseOptions(int argc, char** argv, Options* opts) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--calls" && has_value) {
      opts->calls = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--runs" && has_value) {
      opts->runs = std::atoi(argv[++i]);
    } else if (arg == "--cpu" && has_value) {
      opts->cpu = std::atoi(argv[++i]);
    } else if (arg == "--self-pid") {
      opts->self_pid = true;
    } else if (arg == "--no-ssl") {
      opts->ssl = false;
    } else if (arg == "--site" && has_value) {
      opts->only.push_back(argv[++i]);
    } else {
      return false;
    }
  }
  return opts->calls > 0 && opts->runs > 0;
}

std::string Cell(double ns, double base_ns) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.0f (+%.0f)", ns, ns - base_ns);
  return buf;
}

struct Row {
  const Site* site;
  std::string bytes_before;
  std::string bytes_probed;
  Median by_mode[kModeCount];
};

void PrintTable(const char* title, const std::vector<Row>& rows, bool cpu) {
  std::printf("\n%s ns/call, median; (+added vs none)\n\n", title);
  std::printf(
      "| site | first insn | bytes | bytes probed | none | entry | return | entry+return |\n");
  std::printf("|---|---|---|---|---:|---:|---:|---:|\n");
  for (const Row& row : rows) {
    const double base = cpu ? row.by_mode[kNone].cpu_ns : row.by_mode[kNone].wall_ns;
    std::printf("| %s | `%s` | %s | %s | %.0f", row.site->name.c_str(), row.site->insn.c_str(),
                row.bytes_before.c_str(), row.bytes_probed.c_str(), base);
    for (int m = kEntry; m < kModeCount; ++m) {
      const Median& med = row.by_mode[m];
      if (!med.measured) {
        std::printf(" | n/a");
        continue;
      }
      std::printf(" | %s%s%s", Cell(cpu ? med.cpu_ns : med.wall_ns, base).c_str(),
                  med.counts_ok ? "" : " COUNT MISMATCH",
                  med.foreign_probe ? " FOREIGN PROBE" : "");
    }
    std::printf(" |\n");
  }
}

int Run(int argc, char** argv) {
  Options opts;
  if (!ParseOptions(argc, argv, &opts)) {
    std::fprintf(stderr,
                 "usage: uprobe_floor [--calls N] [--runs R] [--cpu C] [--self-pid] [--no-ssl] "
                 "[--site NAME]...\n");
    return 2;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(opts.cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    std::fprintf(stderr, "uprobe_floor: cannot pin to CPU %d: %s\n", opts.cpu,
                 std::strerror(errno));
    return 1;
  }

  SkelPtr skel(uprobe_floor_bpf__open());
  if (!skel) {
    std::fprintf(stderr, "uprobe_floor: cannot open the BPF object\n");
    return 1;
  }
  skel->rodata->target_tgid = static_cast<std::uint32_t>(getpid());
  if (uprobe_floor_bpf__load(skel.get()) != 0) {
    std::fprintf(stderr, "uprobe_floor: cannot load the BPF programs (root?)\n");
    return 1;
  }

  std::vector<Site> sites = {
      AsmSite("sub+0", "sub $0x18,%rsp", uf_sub, 0),
      AsmSite("sub+4", "call (after sub)", uf_sub, 4),
      AsmSite("push+0", "push %rbp", uf_push, 0),
      AsmSite("push+1", "mov %rsp,%rbp", uf_push, 1),
      AsmSite("push_r13+0", "push %r13", uf_push_r13, 0),
      AsmSite("nop5+0", "nopl 0x0(%rax,%rax,1)", uf_nop5, 0),
      AsmSite("call+0", "call", uf_call, 0),
      AsmSite("endbr+0", "endbr64", uf_endbr, 0),
  };
  std::unique_ptr<Libssl> ssl = opts.ssl ? Libssl::Open() : nullptr;
  if (ssl) {
    sites.push_back(ssl->ReadSite("SSL_read+0", false, 0));
    sites.push_back(ssl->ReadSite("SSL_read_ex+0", true, 0));
    sites.push_back(ssl->ReadSite("SSL_read_ex+4", true, 4));
  } else if (opts.ssl) {
    std::fprintf(stderr, "uprobe_floor: libssl.so.3 not usable, skipping the SSL_read sites\n");
  }

  utsname uts{};
  uname(&uts);
  std::printf("kernel %s; sys_uretprobe %s; sys_uprobe %s; %" PRIu64
              " calls x %d runs on CPU %d; pid filter: %s\n",
              uts.release, KernelHasSymbol("__x64_sys_uretprobe") ? "yes" : "no",
              KernelHasSymbol("__x64_sys_uprobe") ? "yes" : "no", opts.calls, opts.runs, opts.cpu,
              opts.self_pid ? "self everywhere" : "-1 own binary, self libssl");

  const RawTraps raw = MeasureRawTraps(std::min<std::uint64_t>(opts.calls, 100000));
  std::printf(
      "raw traps, no uprobe, each delivered as SIGTRAP: int3 %.0f ns, single-step %.0f ns\n",
      raw.int3_ns, raw.step_ns);

  Bench bench(skel.get(), opts);
  std::vector<Row> rows;
  for (const Site& site : sites) {
    if (!opts.only.empty() &&
        std::find(opts.only.begin(), opts.only.end(), site.name) == opts.only.end()) {
      continue;
    }
    Row row{&site, Hex(site.address, 5), "", {}};
    for (int m = kNone; m < kModeCount; ++m) {
      // A uretprobe off the entry would overwrite whatever is on top of the
      // stack there (a saved register) instead of the return address.
      if (!site.at_entry && (m == kReturn || m == kBoth)) continue;
      std::string seen;
      auto med = bench.Measure(site, static_cast<Mode>(m), &seen);
      if (!med) {
        std::fprintf(stderr, "uprobe_floor: %s: %s\n", site.name.c_str(),
                     med.error().message.c_str());
        return 1;
      }
      row.by_mode[m] = *med;
      if (m == kEntry) row.bytes_probed = seen;
    }
    rows.push_back(row);
    std::fprintf(stderr, "uprobe_floor: %s done\n", site.name.c_str());
  }
  PrintTable("Thread CPU", rows, true);
  PrintTable("Wall", rows, false);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {  // bad_alloc and the like: one line, no abort
    std::fprintf(stderr, "uprobe_floor: %s\n", e.what());
    return 1;
  }
}
