// sched_hooks: loads tools/bench/sched_hooks.bpf.c (waitscope's hooks without
// any syscall tracepoint, a stand-in) for one process, so that the overhead
// benchmarks can run it in waitscope's place. Benchmark only: BENCHMARKS.md.
//
//   sched_hooks record [-q] [-o DIR] [--min-block X] [--capture-bytes N]
//                      [--fpu-bit N] (-p PID | -- COMMAND ARGS...)
//
// The command line is waitscope record's, so tools/bench/overhead.py and
// wire_overhead.py take this binary as --waitscope. It drains the ring buffer
// every 100 ms (touching every byte, nothing parsed), and at the end writes
// DIR/report.json with the counters ("loss" and "queries" as the scripts
// expect them) and prints them to stderr.
#include <bpf/libbpf.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "sched_hooks.skel.h"

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) {
  g_stop = 1;
}

struct Drained {
  unsigned long long events = 0;
  unsigned long long bytes = 0;
  unsigned long long checksum = 0;
};

int OnEvent(void* ctx, void* data, size_t size) {
  auto* d = static_cast<Drained*>(ctx);
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; i += 64) d->checksum += p[i];  // touch every cache line
  d->events++;
  d->bytes += size;
  return 0;
}

const char* const kCounterNames[] = {"blocks",    "syscalls",    "returned",   "bit14_set",
                                     "bit19_set", "data_events", "data_bytes", "drops",
                                     "opens",     "no_buffer"};

int Usage() {
  std::fprintf(stderr,
               "usage: sched_hooks record [-q] [-o DIR] [--min-block X] [--capture-bytes N] "
               "[--fpu-bit N] (-p PID | -- COMMAND ARGS...)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_dir;
  int pid = 0;
  unsigned capture = 16384;
  int fpu_bit = 19;
  int i = 1;
  if (i < argc && std::strcmp(argv[i], "record") == 0) i++;
  for (; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--") {
      i++;
      break;
    }
    if (a == "-q") continue;
    if (i + 1 >= argc) return Usage();
    if (a == "-o")
      out_dir = argv[++i];
    else if (a == "--min-block")
      ++i;  // no stacks here
    else if (a == "--capture-bytes")
      capture = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--fpu-bit")
      fpu_bit = std::atoi(argv[++i]);
    else if (a == "-p")
      pid = std::atoi(argv[++i]);
    else
      return Usage();
  }
  std::vector<char*> cmd(argv + i, argv + argc);
  if ((pid == 0) == cmd.empty()) return Usage();

  // The command is forked first and parked on a pipe: its pid goes into the
  // object's read-only data before load, and it execs once the hooks are on.
  int park[2] = {-1, -1};
  if (!cmd.empty()) {
    if (pipe(park) != 0) return 1;
    pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      close(park[1]);
      char go;
      if (read(park[0], &go, 1) != 1) _exit(127);
      cmd.push_back(nullptr);
      execvp(cmd[0], cmd.data());
      _exit(127);
    }
    close(park[0]);
  }

  sched_hooks_bpf* skel = sched_hooks_bpf__open();
  if (!skel) return 1;
  skel->rodata->target_tgid = static_cast<unsigned>(pid);
  skel->rodata->fpu_bit = static_cast<unsigned>(fpu_bit);
  skel->rodata->capture_bytes = capture;
  bpf_map__set_max_entries(skel->maps.scratch, static_cast<unsigned>(libbpf_num_possible_cpus()));
  if (sched_hooks_bpf__load(skel) || sched_hooks_bpf__attach(skel)) {
    std::fprintf(stderr, "sched_hooks: load/attach failed: %s\n", std::strerror(errno));
    sched_hooks_bpf__destroy(skel);
    return 1;
  }
  Drained drained;
  ring_buffer* rb = ring_buffer__new(bpf_map__fd(skel->maps.ring), OnEvent, &drained, nullptr);
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (park[1] >= 0) {
    if (write(park[1], "g", 1) != 1) return 1;
    close(park[1]);
  }
  int rc = 0;
  while (!g_stop) {
    ring_buffer__poll(rb, 100);
    if (!cmd.empty()) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
    }
  }
  ring_buffer__consume(rb);
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);

  const int ncpu = libbpf_num_possible_cpus();
  std::vector<unsigned long long> totals(std::size(kCounterNames), 0);
  std::vector<unsigned long long> per_cpu(static_cast<size_t>(ncpu));
  for (unsigned k = 0; k < totals.size(); k++) {
    if (bpf_map__lookup_elem(skel->maps.counters, &k, sizeof(k), per_cpu.data(),
                             per_cpu.size() * sizeof(per_cpu[0]), 0) == 0)
      for (auto v : per_cpu) totals[k] += v;
  }
  // The waits the stand-in aggregated, per syscall number.
  std::string waits = "[";
  struct WaitKey {
    unsigned tgid, nr;
    unsigned long long file, stack;
    unsigned char pad[32];
  } key{}, next{};
  struct {
    unsigned long long count, total_ns, max_ns;
  } val{};
  static_assert(sizeof(WaitKey) == 56);
  const void* prev = nullptr;
  while (bpf_map__get_next_key(skel->maps.waits, prev, &next, sizeof(next)) == 0) {
    key = next;
    prev = &key;
    if (bpf_map__lookup_elem(skel->maps.waits, &key, sizeof(key), &val, sizeof(val), 0) != 0)
      continue;
    if (waits.size() > 1) waits += ", ";
    waits += "{\"nr\": " + std::to_string(key.nr) + ", \"count\": " + std::to_string(val.count) +
             ", \"total_ns\": " + std::to_string(val.total_ns) + "}";
  }
  waits += "]";
  std::string json = "{\"waits\": " + waits + ", \"sched_hooks\": {";
  for (unsigned k = 0; k < totals.size(); k++)
    json +=
        (k ? ", \"" : "\"") + std::string(kCounterNames[k]) + "\": " + std::to_string(totals[k]);
  json += ", \"drained_events\": " + std::to_string(drained.events) +
          ", \"drained_bytes\": " + std::to_string(drained.bytes) +
          "}, \"loss\": {\"events_dropped\": " + std::to_string(totals[7]) +
          "}, \"queries\": [], \"duration_s\": " +
          std::to_string((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9) + "}\n";
  std::fputs(json.c_str(), stderr);
  if (!out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (FILE* f = std::fopen((out_dir + "/report.json").c_str(), "w")) {
      std::fputs(json.c_str(), f);
      std::fclose(f);
    }
  }
  ring_buffer__free(rb);
  sched_hooks_bpf__destroy(skel);
  return rc;
}
