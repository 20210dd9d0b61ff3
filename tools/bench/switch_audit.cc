// switch_audit TGID SECONDS: for SECONDS, counts the switches into and out of
// TGID's threads that a sched_switch BPF program sees, next to the switches
// the scheduler itself counted for them (voluntary + nonvoluntary context
// switches of /proc/TGID/task/*/status: one per switch out). On a kernel that
// reports every switch, switched_out equals scheduler_switches (threads that
// exit during the window make the latter smaller). Investigation only
// (docs/design.md, "A block whose end we did not see").
#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "switch_audit.skel.h"

namespace {

// The context switches the scheduler counted for tgid's live threads.
unsigned long long SchedulerSwitches(unsigned tgid) {
  const std::string dir = "/proc/" + std::to_string(tgid) + "/task";
  unsigned long long total = 0;
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + e->d_name + "/status");
    std::string key;
    unsigned long long value = 0;
    while (in >> key) {
      if (key == "voluntary_ctxt_switches:" || key == "nonvoluntary_ctxt_switches:") {
        if (in >> value) total += value;
      }
    }
  }
  closedir(d);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: switch_audit TGID SECONDS\n");
    return 2;
  }
  const unsigned tgid = static_cast<unsigned>(std::atoi(argv[1]));
  const int seconds = std::atoi(argv[2]);
  if (access(("/proc/" + std::to_string(tgid)).c_str(), F_OK) != 0 || seconds <= 0) {
    std::fprintf(stderr, "switch_audit: no process %s, or SECONDS not positive\n", argv[1]);
    return 2;
  }
  switch_audit_bpf* skel = switch_audit_bpf__open();
  if (!skel) return 1;
  skel->rodata->target_tgid = tgid;
  if (switch_audit_bpf__load(skel) || switch_audit_bpf__attach(skel)) {
    std::fprintf(stderr, "switch_audit: load/attach failed\n");
    switch_audit_bpf__destroy(skel);
    return 1;
  }
  const unsigned long long in0 = __atomic_load_n(&skel->bss->switched_in, __ATOMIC_RELAXED);
  const unsigned long long out0 = __atomic_load_n(&skel->bss->switched_out, __ATOMIC_RELAXED);
  const unsigned long long sched0 = SchedulerSwitches(tgid);
  sleep(static_cast<unsigned>(seconds));
  const unsigned long long sched1 = SchedulerSwitches(tgid);
  const unsigned long long in1 = __atomic_load_n(&skel->bss->switched_in, __ATOMIC_RELAXED);
  const unsigned long long out1 = __atomic_load_n(&skel->bss->switched_out, __ATOMIC_RELAXED);
  std::printf(
      "{\"tgid\": %u, \"seconds\": %d, \"switched_in\": %llu, \"switched_out\": %llu, "
      "\"scheduler_switches\": %llu}\n",
      tgid, seconds, in1 - in0, out1 - out0, sched1 - sched0);
  switch_audit_bpf__destroy(skel);
  return 0;
}
