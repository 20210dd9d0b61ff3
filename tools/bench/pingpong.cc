// pingpong: load generator for waitscope's overhead benchmark (tools/bench/overhead.py).
// A benchmark, not a test: nothing here asserts on timing.
//
//   pingpong [--cpu C] N             two threads, 1-byte pipe ping-pong, N round trips
//                                    (each round trip = 4 syscalls: write+read per side)
//   pingpong [--cpu C] sockets N     the same over two UNIX socketpairs: socket I/O,
//                                    which the wire hooks see (pipes never reach them)
//   pingpong syscalls N              one thread, N getppid() calls (non-blocking syscall cost)
//   pingpong blocking-rate RATE SEC  ~RATE blocking waits per second for SEC seconds
//
// --cpu C (before the mode) pins the whole process to CPU C first, so the
// ping-pong threads hand off on one core (stable numbers; no cross-CPU IPIs).
// Each mode prints one JSON object on stdout. ns_per_syscall is wall time;
// cpu_ns_per_syscall is the process's CPU time (CLOCK_PROCESS_CPUTIME_ID), which
// includes BPF hooks run in its context but not time other tasks on a busy
// machine took the CPU away.
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

std::int64_t NowNs(clockid_t clock = CLOCK_MONOTONIC) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "pingpong: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

void WriteByte(int fd) {
  char c = 'x';
  while (write(fd, &c, 1) != 1) {
    if (errno != EINTR) Die("write");
  }
}

void ReadByte(int fd) {
  char c;
  while (read(fd, &c, 1) != 1) {
    if (errno != EINTR) Die("read");
  }
}

long VoluntarySwitches() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_nvcsw;
}

// Both modes write to [1] and read from [0]: a socketpair is bidirectional,
// so two of them behave like two pipes.
int PingPong(long round_trips, bool sockets) {
  int ping[2], pong[2];
  if (sockets) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, ping) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, pong) != 0) {
      Die("socketpair");
    }
  } else if (pipe(ping) != 0 || pipe(pong) != 0) {
    Die("pipe");
  }
  // Echo side: read a byte, write it back.
  std::thread echo([&] {
    for (long i = 0; i < round_trips + 1000; i++) {
      ReadByte(ping[0]);
      WriteByte(pong[1]);
    }
  });
  for (int i = 0; i < 1000; i++) {  // warm-up: threads, page faults, caches
    WriteByte(ping[1]);
    ReadByte(pong[0]);
  }
  const long vcsw0 = VoluntarySwitches();
  const std::int64_t c0 = NowNs(CLOCK_PROCESS_CPUTIME_ID);
  const std::int64_t t0 = NowNs();
  for (long i = 0; i < round_trips; i++) {
    WriteByte(ping[1]);
    ReadByte(pong[0]);
  }
  const std::int64_t t1 = NowNs();
  const std::int64_t c1 = NowNs(CLOCK_PROCESS_CPUTIME_ID);
  const long vcsw1 = VoluntarySwitches();
  echo.join();
  const double ns = static_cast<double>(t1 - t0);
  std::printf(
      "{\"mode\":\"%s\",\"round_trips\":%ld,\"syscalls\":%ld,\"elapsed_s\":%.6f,"
      "\"ns_per_round_trip\":%.1f,\"ns_per_syscall\":%.2f,\"cpu_ns_per_syscall\":%.2f,"
      "\"voluntary_switches\":%ld}\n",
      sockets ? "sockets" : "pingpong", round_trips, round_trips * 4, ns / 1e9,
      ns / static_cast<double>(round_trips), ns / static_cast<double>(round_trips * 4),
      static_cast<double>(c1 - c0) / static_cast<double>(round_trips * 4), vcsw1 - vcsw0);
  return 0;
}

int Syscalls(long n) {
  for (int i = 0; i < 10000; i++) syscall(SYS_getppid);
  const std::int64_t c0 = NowNs(CLOCK_PROCESS_CPUTIME_ID);
  const std::int64_t t0 = NowNs();
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  const std::int64_t t1 = NowNs();
  const std::int64_t c1 = NowNs(CLOCK_PROCESS_CPUTIME_ID);
  const double ns = static_cast<double>(t1 - t0);
  std::printf(
      "{\"mode\":\"syscalls\",\"syscalls\":%ld,\"elapsed_s\":%.6f,\"ns_per_syscall\":%.2f,"
      "\"cpu_ns_per_syscall\":%.2f}\n",
      n, ns / 1e9, ns / static_cast<double>(n),
      static_cast<double>(c1 - c0) / static_cast<double>(n));
  return 0;
}

// ~rate blocking waits per second: a pacer thread sleeps to absolute
// deadlines (one blocking nanosleep per tick) and every tick writes one byte
// to a pipe that a reader thread blocks on (one blocking read per tick). So
// each tick is two blocking waits, of two kinds (sleep, pipe), and the tick
// rate is rate/2. If the pacer falls behind it skips ticks instead of
// bursting, so the rate is a ceiling.
int BlockingRate(double rate, double seconds) {
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // default 50us slack would blur a 200us period
  int p[2];
  if (pipe(p) != 0) Die("pipe");
  const std::int64_t period_ns = static_cast<std::int64_t>(2e9 / rate);
  std::atomic<long> reads{0};
  std::thread reader([&] {
    char c;
    for (;;) {
      ssize_t n = read(p[0], &c, 1);
      if (n == 1 && c == 'q') return;
      if (n == 1) reads.fetch_add(1, std::memory_order_relaxed);
      if (n < 0 && errno != EINTR) Die("read");
    }
  });
  const long vcsw0 = VoluntarySwitches();
  const std::int64_t start = NowNs();
  const std::int64_t end = start + static_cast<std::int64_t>(seconds * 1e9);
  std::int64_t next = start;
  long ticks = 0, skipped = 0;
  while (next < end) {
    next += period_ns;
    std::int64_t now = NowNs();
    if (now > next + period_ns) {  // behind: drop the missed ticks
      std::int64_t missed = (now - next) / period_ns;
      skipped += missed;
      next += missed * period_ns;
    }
    timespec ts{static_cast<time_t>(next / 1000000000LL), static_cast<long>(next % 1000000000LL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    WriteByte(p[1]);
    ticks++;
  }
  char q = 'q';
  if (write(p[1], &q, 1) != 1) Die("write");
  reader.join();
  const double elapsed = static_cast<double>(NowNs() - start) / 1e9;
  const long vcsw = VoluntarySwitches() - vcsw0;
  std::printf(
      "{\"mode\":\"blocking-rate\",\"target_rate\":%.0f,\"elapsed_s\":%.3f,\"ticks\":%ld,"
      "\"skipped_ticks\":%ld,\"pipe_reads\":%ld,\"voluntary_switches\":%ld,"
      "\"blocking_waits_per_s\":%.0f}\n",
      rate, elapsed, ticks, skipped, reads.load(), vcsw, static_cast<double>(vcsw) / elapsed);
  return 0;
}

void Usage() {
  std::fprintf(stderr,
               "usage: pingpong [--cpu C] N\n"
               "       pingpong [--cpu C] sockets N\n"
               "       pingpong syscalls N\n"
               "       pingpong blocking-rate RATE SECONDS\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--cpu") {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(std::atoi(argv[2]), &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) Die("sched_setaffinity");
    argv += 2;
    argc -= 2;
  }
  if (argc == 2) {
    long n = std::strtol(argv[1], nullptr, 10);
    if (n <= 0) Usage();
    return PingPong(n, false);
  }
  if (argc == 3 && std::string(argv[1]) == "sockets") {
    long n = std::strtol(argv[2], nullptr, 10);
    if (n <= 0) Usage();
    return PingPong(n, true);
  }
  if (argc == 3 && std::string(argv[1]) == "syscalls") {
    long n = std::strtol(argv[2], nullptr, 10);
    if (n <= 0) Usage();
    return Syscalls(n);
  }
  if (argc == 4 && std::string(argv[1]) == "blocking-rate") {
    double rate = std::strtod(argv[2], nullptr);
    double seconds = std::strtod(argv[3], nullptr);
    if (rate <= 0 || seconds <= 0) Usage();
    return BlockingRate(rate, seconds);
  }
  Usage();
}
