// workload: a test program with known blocking, for tests/bpf/test_record.py.
//
// Usage: workload OUT.json MODE...
//   fsync        write + fsync a file 20 times (in $WORKLOAD_DIR or /var/tmp)
//   reuse-inode  fsync a file 3 times and delete it, then fsync a new file 4
//                times; on ext4 the new file gets the deleted one's inode number
//   socket       5 request/read round trips to a local TCP server that answers
//                each 1-byte request after 50 ms (and one page fault, untimed,
//                between the second and the third)
//   futex        3 times: block on a std::mutex a helper thread holds for 200 ms
//   sleep        nanosleep 5 x 40 ms (after leaving stale return addresses
//                where the sleeping function's frame will be)
//   pagefault    read a 4 MiB file through mmap after dropping it from the page
//                cache: the thread blocks in major page faults, in no syscall
//                (measured: wall time, wall minus the thread's CPU time, and
//                the time in that which is no block: run-queue wait, steal,
//                interrupts)
//   deep-sleep   nanosleep 3 x 20 ms 100 calls below main (deeper than the
//                kernel's stack walk goes)
//   bogus-rbp    (x86-64) nanosleep 3 x 20 ms from a function that points rbp
//                at a fake frame whose return address is a number, as code
//                built without frame pointers may leave rbp
//   wait-stdin   print "ready PID", block until a line arrives on stdin
//   spin SECONDS print "ready PID", then nanosleep 20 ms in a loop for SECONDS
// Modes run in the order given. Each blocking call sits in its own noinline
// workload_* function and is timed with CLOCK_MONOTONIC, so the test can compare
// what waitscope recorded (class, target, stack, total) with what happened.
// The Run* functions whose frames a test spells out are noinline too: GCC and
// clang inline a function called once differently.
// At the end a JSON summary is written to OUT.json.
//
// Only the measured calls block in the rows the test checks: the helper
// threads wait with poll() (class "poll"), hand-offs go through a pipe (class
// "pipe"), so they do not add to the sleep, lock or client-read totals.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Measured {
  bool ran = false;
  int count = 0;
  std::int64_t total_ns = 0;
  std::int64_t max_ns = 0;
  // Wall time minus the thread's CPU time, where measured (offcpu_measured):
  // what waitscope records. A syscall that works on CPU (fsync: ext4's
  // journal) differs from its wall time by an amount that depends on the
  // machine.
  bool offcpu_measured = false;
  std::int64_t offcpu_ns = 0;
  // Of offcpu_ns, what was surely no block, over the calls' loop (see
  // NotBlocked): the thread's run-queue wait, the CPUs' steal and interrupt
  // time. -1: unknown.
  bool not_blocked_measured = false;
  std::int64_t runq_ns = -1;
  std::int64_t steal_ns = -1;
  std::int64_t irq_ns = -1;
  void Add(std::int64_t ns) {
    ran = true;
    ++count;
    total_ns += ns;
    if (ns > max_ns) max_ns = ns;
  }
  void Add(std::int64_t ns, std::int64_t cpu_ns) {
    Add(ns);
    offcpu_measured = true;
    offcpu_ns += ns - cpu_ns;
  }
};

Measured g_fsync, g_socket, g_futex, g_sleep, g_spin, g_stdin, g_fault, g_deep_sleep;
long g_major_faults = 0;
long g_fault_blocks = 0;             // voluntary context switches while touching the pages
std::int64_t g_fault_offcpu_ns = 0;  // wall time minus the thread's CPU time
std::string g_file;
struct ReusedFile {
  Measured fsyncs;
  std::string path;
  unsigned long ino = 0;
};
ReusedFile g_reuse_old, g_reuse_new;
std::string g_peer;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "workload: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

std::int64_t ClockNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::int64_t NowNs() {
  return ClockNs(CLOCK_MONOTONIC);
}

std::int64_t ThreadCpuNs() {
  return ClockNs(CLOCK_THREAD_CPUTIME_ID);
}

// Waits without touching the sleep or lock classes (poll with no fds).
void PollDelay(int ms) {
  poll(nullptr, 0, ms);
}

void WriteAll(int fd, const void* buf, size_t len) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Die("write");
    p += n;
    len -= static_cast<size_t>(n);
  }
}

// The thread's time on a run queue, waiting to run (field 2 of
// /proc/thread-self/schedstat; present without schedstats). -1 if unreadable.
std::int64_t RunQueueNs() {
  FILE* f = std::fopen("/proc/thread-self/schedstat", "r");
  if (!f) return -1;
  unsigned long long run = 0, wait = 0;
  const bool ok = std::fscanf(f, "%llu %llu", &run, &wait) == 2;
  std::fclose(f);
  return ok ? static_cast<std::int64_t>(wait) : -1;
}

// Time of all CPUs together that no thread is charged for (/proc/stat, in
// USER_HZ ticks): steal (the hypervisor ran someone else) and interrupts
// (hard and soft; with IRQ time accounting a thread's CPU time leaves out
// the interrupts that came while it ran). -1 if unreadable.
struct Uncharged {
  std::int64_t steal_ns = -1;
  std::int64_t irq_ns = -1;
};

Uncharged UnchargedNs() {
  Uncharged u;
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return u;
  // user nice system idle iowait irq softirq steal
  unsigned long long v[8] = {};
  const bool ok = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                              &v[3], &v[4], &v[5], &v[6], &v[7]) == 8;
  std::fclose(f);
  const long hz = sysconf(_SC_CLK_TCK);
  if (!ok || hz <= 0) return u;
  const auto ns = [hz](unsigned long long ticks) {
    return static_cast<std::int64_t>(ticks * (1000000000ULL / static_cast<unsigned long long>(hz)));
  };
  u.steal_ns = ns(v[7]);
  u.irq_ns = ns(v[5] + v[6]);
  return u;
}

std::int64_t Delta(std::int64_t before, std::int64_t after) {
  return before < 0 || after < 0 ? -1 : after - before;
}

// Off-CPU time that is no block: wall minus the thread's CPU time also holds
// the thread's wait on a run queue when it was preempted (a busy machine),
// and the time the CPUs lost to steal and interrupts.
struct NotBlocked {
  std::int64_t runq_ns = -1;
  Uncharged uncharged;
};

NotBlocked NotBlockedNow() {
  return NotBlocked{RunQueueNs(), UnchargedNs()};
}

std::int64_t Sum(std::int64_t total, std::int64_t delta) {
  return total < 0 || delta < 0 ? -1 : total + delta;
}

void AddNotBlocked(Measured& m, const NotBlocked& before, const NotBlocked& after) {
  if (!m.not_blocked_measured) {
    m.not_blocked_measured = true;
    m.runq_ns = m.steal_ns = m.irq_ns = 0;
  }
  m.runq_ns = Sum(m.runq_ns, Delta(before.runq_ns, after.runq_ns));
  m.steal_ns = Sum(m.steal_ns, Delta(before.uncharged.steal_ns, after.uncharged.steal_ns));
  m.irq_ns = Sum(m.irq_ns, Delta(before.uncharged.irq_ns, after.uncharged.irq_ns));
}

// ---- fsync -----------------------------------------------------------------

__attribute__((noinline)) void workload_fsync_loop(int fd, int times, Measured& m) {
  char block[4096];
  std::memset(block, 'w', sizeof(block));
  const NotBlocked before = NotBlockedNow();
  for (int i = 0; i < times; ++i) {
    WriteAll(fd, block, sizeof(block));
    const std::int64_t cpu0 = ThreadCpuNs();
    const std::int64_t t0 = NowNs();
    if (fsync(fd) != 0) Die("fsync");
    const std::int64_t wall = NowNs() - t0;
    m.Add(wall, ThreadCpuNs() - cpu0);
  }
  AddNotBlocked(m, before, NotBlockedNow());
}

std::string WorkloadPath(const char* name) {
  const char* dir = std::getenv("WORKLOAD_DIR");
  return std::string(dir && *dir ? dir : "/var/tmp") + "/workload-" + name + "-" +
         std::to_string(getpid()) + ".dat";
}

// Creates `path`, fsyncs it `times` times, deletes it; returns its inode number.
unsigned long FsyncNewFile(const std::string& path, int times, Measured& m) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die("open fsync file");
  struct stat st {};
  if (fstat(fd, &st) != 0) Die("fstat");
  workload_fsync_loop(fd, times, m);
  close(fd);
  unlink(path.c_str());
  return static_cast<unsigned long>(st.st_ino);
}

void RunFsync() {
  g_file = WorkloadPath("fsync");
  FsyncNewFile(g_file, 20, g_fsync);
}

// The same thread, the same syscall, one directory: only the file differs,
// and maybe not even its inode number.
void RunReuseInode() {
  g_reuse_old.path = WorkloadPath("reuse-old");
  g_reuse_old.ino = FsyncNewFile(g_reuse_old.path, 3, g_reuse_old.fsyncs);
  g_reuse_new.path = WorkloadPath("reuse-new");
  g_reuse_new.ino = FsyncNewFile(g_reuse_new.path, 4, g_reuse_new.fsyncs);
}

// A file mapped read-only whose pages are not in the page cache: each first
// touch of a page is a major fault, the thread blocked in no syscall.
class ColdMapping {
 public:
  ColdMapping(const std::string& path, size_t len) : path_(path), len_(len) {
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) Die("open cold file");
    std::vector<char> block(std::min<size_t>(len, 1 << 20), 'f');
    for (size_t done = 0; done < len; done += block.size()) {
      WriteAll(fd_, block.data(), block.size());
    }
    // Clean pages can be dropped: the touches must read from the disk.
    // (This file may get the fsync mode's inode number: its fsync is a row of
    // its own all the same, bpf_record.ReusedInodeTest.)
    if (fsync(fd_) != 0) Die("fsync cold file");
    if (posix_fadvise(fd_, 0, static_cast<off_t>(len), POSIX_FADV_DONTNEED) != 0) Die("fadvise");
    map_ = mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (map_ == MAP_FAILED) Die("mmap");
    madvise(map_, len, MADV_RANDOM);  // no read-ahead: a fault per page
  }
  ~ColdMapping() {
    munmap(map_, len_);
    close(fd_);
    unlink(path_.c_str());
  }
  ColdMapping(const ColdMapping&) = delete;
  ColdMapping& operator=(const ColdMapping&) = delete;

  const volatile char* data() const { return static_cast<const volatile char*>(map_); }
  size_t size() const { return len_; }

 private:
  std::string path_;
  size_t len_;
  int fd_ = -1;
  void* map_ = nullptr;
};

__attribute__((noinline)) long workload_touch_pages(const volatile char* p, size_t len) {
  long sum = 0;
  for (size_t off = 0; off < len; off += 4096) sum += p[off];
  return sum;
}

// ---- socket ----------------------------------------------------------------

constexpr int kSocketRoundTrips = 5;

void ServeOne(int listener) {
  int conn = accept(listener, nullptr, nullptr);
  if (conn < 0) Die("accept");
  for (int i = 0; i < kSocketRoundTrips; ++i) {
    char c;
    ssize_t n = read(conn, &c, 1);
    if (n != 1) Die("server read");
    PollDelay(50);
    WriteAll(conn, &c, 1);
  }
  close(conn);
}

// Between two reads the thread blocks once in a page fault (not timed: no
// part of a read): the reads after it must still be waits on the socket.
__attribute__((noinline)) void workload_socket_reads(int fd, const ColdMapping& cold) {
  for (int i = 0; i < kSocketRoundTrips; ++i) {
    if (i == 2) workload_touch_pages(cold.data(), 4096);
    char c = static_cast<char>('a' + i);
    WriteAll(fd, &c, 1);
    std::int64_t t0 = NowNs();
    ssize_t n = read(fd, &c, 1);
    g_socket.Add(NowNs() - t0);
    if (n != 1) Die("client read");
  }
}

__attribute__((noinline)) void RunSocket() {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) Die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) Die("bind");
  if (listen(listener, 4) != 0) Die("listen");
  socklen_t len = sizeof(addr);
  if (getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) Die("getsockname");
  g_peer = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  std::thread server(ServeOne, listener);

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("socket");
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) Die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const ColdMapping cold(WorkloadPath("socket-cold"), 4096);
  workload_socket_reads(fd, cold);
  close(fd);
  server.join();
  close(listener);
}

// ---- futex -----------------------------------------------------------------

__attribute__((noinline)) void workload_lock_wait(std::mutex& m) {
  std::int64_t t0 = NowNs();
  m.lock();
  g_futex.Add(NowNs() - t0);
  m.unlock();
}

void RunFutex() {
  for (int i = 0; i < 3; ++i) {
    std::mutex m;
    int held[2];
    if (pipe2(held, O_CLOEXEC) != 0) Die("pipe");
    std::thread holder([&] {
      m.lock();
      char c = 1;
      WriteAll(held[1], &c, 1);  // tell the main thread the lock is held
      PollDelay(200);
      m.unlock();
    });
    char c;
    if (read(held[0], &c, 1) != 1) Die("read pipe");
    workload_lock_wait(m);
    holder.join();
    close(held[0]);
    close(held[1]);
  }
}

// ---- sleep -----------------------------------------------------------------

// Recurses to leave return addresses into itself all over the stack below
// main's frame, where workload_sleeps's frame lies next: a scan of the stack's
// top that took every word after a call instruction for a caller put this
// function into the sleeps' stacks
// (bpf_record.KnownWaitsTest.test_syscall_stack_has_no_stale_callers).
__attribute__((noinline)) void workload_plant_frames(int depth) {
  char pad[48];
  asm volatile("" : : "r"(pad) : "memory");  // a frame of some size
  if (depth > 0) workload_plant_frames(depth - 1);
  asm volatile("" ::: "memory");  // keeps the call from becoming a jump
}

__attribute__((noinline)) void workload_sleeps() {
  // Left uninitialised on purpose: it holds what workload_plant_frames left.
  char stale[256];
  asm volatile("" : : "r"(stale) : "memory");
  for (int i = 0; i < 5; ++i) {
    timespec ts{0, 40 * 1000 * 1000};
    std::int64_t t0 = NowNs();
    nanosleep(&ts, nullptr);
    g_sleep.Add(NowNs() - t0);
  }
}

// ---- a stack deeper than the walk ------------------------------------------

__attribute__((noinline)) void workload_deep_sleeps(int depth) {
  if (depth > 0) {
    workload_deep_sleeps(depth - 1);
    asm volatile("" ::: "memory");  // keeps the call from becoming a jump
    return;
  }
  for (int i = 0; i < 3; ++i) {
    timespec ts{0, 20 * 1000 * 1000};
    std::int64_t t0 = NowNs();
    nanosleep(&ts, nullptr);
    g_deep_sleep.Add(NowNs() - t0);
  }
}

// ---- a bogus frame pointer -------------------------------------------------

#if defined(__x86_64__)
// nanosleep(req, nullptr) with rbp pointing at {next frame 0, return address
// 0x2faf080}: a frame-pointer walk from there reads a number for a caller.
// Written in assembly because a C++ function cannot own rbp.
extern "C" long workload_sleep_bogus_rbp(const timespec* req);
asm(R"(
  .text
  .globl workload_sleep_bogus_rbp
  .type workload_sleep_bogus_rbp, @function
workload_sleep_bogus_rbp:
  push %rbp
  sub $16, %rsp
  movq $0, (%rsp)
  movq $0x2faf080, 8(%rsp)
  mov %rsp, %rbp
  xor %esi, %esi
  mov $35, %eax
  syscall
  add $16, %rsp
  pop %rbp
  ret
  .size workload_sleep_bogus_rbp, .-workload_sleep_bogus_rbp
)");

__attribute__((noinline)) void workload_bogus_rbp_sleeps() {
  for (int i = 0; i < 3; ++i) {
    timespec ts{0, 20 * 1000 * 1000};
    workload_sleep_bogus_rbp(&ts);
  }
}
#else
void workload_bogus_rbp_sleeps() {
  std::fprintf(stderr, "workload: bogus-rbp is x86-64 only\n");
  std::exit(2);
}
#endif

// ---- page faults -----------------------------------------------------------

rusage ThreadUsage() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return ru;
}

__attribute__((noinline)) void RunPageFaults() {
  const ColdMapping cold(WorkloadPath("fault"), 4 << 20);
  const rusage before = ThreadUsage();
  const NotBlocked not_blocked = NotBlockedNow();
  const std::int64_t cpu0 = ThreadCpuNs();
  std::int64_t t0 = NowNs();
  workload_touch_pages(cold.data(), cold.size());
  g_fault.Add(NowNs() - t0);
  g_fault_offcpu_ns = g_fault.total_ns - (ThreadCpuNs() - cpu0);
  AddNotBlocked(g_fault, not_blocked, NotBlockedNow());
  const rusage after = ThreadUsage();
  g_major_faults = after.ru_majflt - before.ru_majflt;
  // The loop makes no syscall: every time it gave up the CPU was a block in
  // a fault. A major fault whose read completes before the thread would
  // sleep does not block (often, on a fast virtual disk).
  g_fault_blocks = after.ru_nvcsw - before.ru_nvcsw;
}

// ---- attach helpers --------------------------------------------------------

void SayReady() {
  std::printf("ready %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
}

__attribute__((noinline)) void workload_wait_stdin() {
  SayReady();
  std::int64_t t0 = NowNs();
  char buf[256];
  ssize_t n;
  do {
    n = read(STDIN_FILENO, buf, sizeof(buf));
  } while (n < 0 && errno == EINTR);
  g_stdin.Add(NowNs() - t0);
}

__attribute__((noinline)) void workload_spin(double seconds) {
  SayReady();
  const std::int64_t end = NowNs() + static_cast<std::int64_t>(seconds * 1e9);
  while (NowNs() < end) {
    timespec ts{0, 20 * 1000 * 1000};
    std::int64_t t0 = NowNs();
    nanosleep(&ts, nullptr);
    g_spin.Add(NowNs() - t0);
  }
}

// ---- summary ---------------------------------------------------------------

void AppendMeasured(std::string& out, const char* name, const Measured& m,
                    const std::string& extra = "") {
  if (!m.ran) return;
  out += ",\n  \"" + std::string(name) + "\": {\"count\": " + std::to_string(m.count) +
         ", \"total_ns\": " + std::to_string(m.total_ns) +
         ", \"max_ns\": " + std::to_string(m.max_ns) +
         (m.offcpu_measured ? ", \"offcpu_ns\": " + std::to_string(m.offcpu_ns) : "") +
         (m.not_blocked_measured ? ", \"runq_ns\": " + std::to_string(m.runq_ns) +
                                       ", \"steal_ns\": " + std::to_string(m.steal_ns) +
                                       ", \"irq_ns\": " + std::to_string(m.irq_ns)
                                 : "") +
         extra + "}";
}

void WriteSummary(const char* path) {
  std::string out = "{\n  \"pid\": " + std::to_string(getpid());
  AppendMeasured(out, "fsync", g_fsync);
  AppendMeasured(out, "socket", g_socket, ", \"peer\": \"" + g_peer + "\"");
  AppendMeasured(out, "futex", g_futex);
  AppendMeasured(out, "sleep", g_sleep);
  AppendMeasured(out, "deep_sleep", g_deep_sleep);
  AppendMeasured(out, "spin", g_spin);
  AppendMeasured(out, "wait_stdin", g_stdin);
  AppendMeasured(out, "pagefault", g_fault,
                 ", \"major_faults\": " + std::to_string(g_major_faults) +
                     ", \"blocks\": " + std::to_string(g_fault_blocks) +
                     ", \"offcpu_ns\": " + std::to_string(g_fault_offcpu_ns));
  if (!g_file.empty()) out += ",\n  \"file\": \"" + g_file + "\"";
  for (const auto& [name, f] : {std::pair{"reuse_old", &g_reuse_old}, {"reuse_new", &g_reuse_new}})
    AppendMeasured(out, name, f->fsyncs,
                   ", \"file\": \"" + f->path + "\", \"ino\": " + std::to_string(f->ino));
  out += "\n}\n";
  std::string tmp = std::string(path) + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) Die("open summary");
  std::fputs(out.c_str(), f);
  if (std::fclose(f) != 0) Die("write summary");
  if (std::rename(tmp.c_str(), path) != 0) Die("rename summary");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: workload OUT.json MODE...\n"
                 "modes: fsync reuse-inode socket futex sleep deep-sleep pagefault bogus-rbp "
                 "wait-stdin "
                 "'spin SECONDS'\n");
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    std::string mode = argv[i];
    if (mode == "fsync") {
      RunFsync();
    } else if (mode == "reuse-inode") {
      RunReuseInode();
    } else if (mode == "socket") {
      RunSocket();
    } else if (mode == "futex") {
      RunFutex();
    } else if (mode == "sleep") {
      workload_plant_frames(32);
      workload_sleeps();
    } else if (mode == "pagefault") {
      RunPageFaults();
    } else if (mode == "deep-sleep") {
      workload_deep_sleeps(100);
    } else if (mode == "bogus-rbp") {
      workload_bogus_rbp_sleeps();
    } else if (mode == "wait-stdin") {
      workload_wait_stdin();
    } else if (mode == "spin" && i + 1 < argc) {
      workload_spin(std::atof(argv[++i]));
    } else {
      std::fprintf(stderr, "workload: unknown mode '%s'\n", argv[i]);
      return 2;
    }
  }
  WriteSummary(argv[1]);
  return 0;
}
