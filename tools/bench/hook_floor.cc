// hook_floor MODE [TGID]: attach tools/bench/hook_floor.bpf.c's sys_enter/sys_exit/sched_switch
// or socket-length programs, or in mode 6 its program on TGID's per-thread context-switch perf
// events, in MODE (see there) and keep them attached until SIGINT/SIGTERM. Benchmark only: used to
// split waitscope's per-syscall cost (BENCHMARKS.md).
#include <dirent.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "hook_floor.skel.h"

namespace {
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) {
  g_stop = 1;
}

// Mode 6: one software context-switch event per thread of tgid (threads
// created later inherit it), each running floor_task_switch on every switch
// out of that thread. Returns false if any thread's event cannot be opened.
bool AttachTaskSwitch(hook_floor_bpf* skel, unsigned tgid, std::vector<bpf_link*>* links) {
  const std::string dir = "/proc/" + std::to_string(tgid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return false;
  bool ok = true;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CONTEXT_SWITCHES;
    attr.sample_period = 1;
    attr.inherit = 1;
    const int fd =
        static_cast<int>(syscall(SYS_perf_event_open, &attr, std::atoi(e->d_name), -1, -1, 0));
    bpf_link* link =
        fd < 0 ? nullptr : bpf_program__attach_perf_event(skel->progs.floor_task_switch, fd);
    if (!link) {
      std::fprintf(stderr, "hook_floor: perf event on thread %s: %s\n", e->d_name,
                   std::strerror(errno));
      if (fd >= 0) close(fd);
      ok = false;
      break;
    }
    links->push_back(link);
  }
  closedir(d);
  return ok;
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
  // Which programs each mode loads (see hook_floor.bpf.c).
  bpf_program__set_autoload(skel->progs.floor_enter, mode <= 3);
  bpf_program__set_autoload(skel->progs.floor_exit, mode <= 4);
  bpf_program__set_autoload(skel->progs.floor_switch, mode == 5);
  bpf_program__set_autoload(skel->progs.floor_task_switch, mode == 6);
  bpf_program__set_autoload(skel->progs.floor_sock_send, mode == 7);
  bpf_program__set_autoload(skel->progs.floor_sock_recv, mode == 7);
  std::vector<bpf_link*> links;
  const bool attached = hook_floor_bpf__load(skel) == 0 &&
                        (mode == 6 ? AttachTaskSwitch(skel, skel->rodata->target_tgid, &links)
                                   : hook_floor_bpf__attach(skel) == 0);
  if (!attached) {
    std::fprintf(stderr, "hook_floor: load/attach failed\n");
    for (bpf_link* l : links) bpf_link__destroy(l);
    hook_floor_bpf__destroy(skel);
    return 1;
  }
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  std::printf("attached\n");
  std::fflush(stdout);
  while (!g_stop) pause();
  for (bpf_link* l : links) bpf_link__destroy(l);
  hook_floor_bpf__destroy(skel);
  return 0;
}
