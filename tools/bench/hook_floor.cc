// hook_floor MODE [TGID]: attach tools/bench/hook_floor.bpf.c's sys_enter/sys_exit/sched_switch
// programs in MODE (see there) and keep them attached until SIGINT/SIGTERM.
// Benchmark only: used to split waitscope's per-syscall cost (BENCHMARKS.md).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "hook_floor.skel.h"

namespace {
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) {
  g_stop = 1;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: hook_floor MODE [TGID]\n");
    return 2;
  }
  hook_floor_bpf* skel = hook_floor_bpf__open();
  if (!skel) return 1;
  skel->rodata->mode = static_cast<unsigned>(std::atoi(argv[1]));
  skel->rodata->target_tgid = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 0;
  const unsigned mode = skel->rodata->mode;
  if (mode == 4 || mode == 5) bpf_program__set_autoload(skel->progs.floor_enter, false);
  if (mode == 5) bpf_program__set_autoload(skel->progs.floor_exit, false);
  if (mode != 5) bpf_program__set_autoload(skel->progs.floor_switch, false);
  if (hook_floor_bpf__load(skel) || hook_floor_bpf__attach(skel)) {
    std::fprintf(stderr, "hook_floor: load/attach failed\n");
    hook_floor_bpf__destroy(skel);
    return 1;
  }
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  std::printf("attached\n");
  std::fflush(stdout);
  while (!g_stop) pause();
  hook_floor_bpf__destroy(skel);
  return 0;
}
