# Shared by tools/bench/prog_cost.sh and tools/bench/fault_cost.sh; sourced,
# not run. Both measure BPF programs with kernel.bpf_stats_enabled, which
# they must put back as they found it, and both wait for a process's probes
# to be attached before they measure.
# shellcheck shell=bash

BPF_STATS_WAS=$(cat /proc/sys/kernel/bpf_stats_enabled)
bpf_stats() { echo "$1" > /proc/sys/kernel/bpf_stats_enabled; }  # 1 or 0
bpf_stats_restore() { bpf_stats "$BPF_STATS_WAS"; }

bpf_links() {  # PID: how many BPF links the process holds
  local n=0 fd
  for fd in /proc/"$1"/fd/*; do
    [[ $(readlink "$fd" 2>/dev/null) == anon_inode:bpf_link ]] && n=$((n + 1))
  done
  echo $n
}
holds_links() { [ "$(bpf_links "$1")" -ge "$2" ]; }  # PID N: PID holds N links or more

wait_for() {  # SECONDS COMMAND...: polls COMMAND every 50 ms; exits 1 on timeout
  local end=$(( $(date +%s) + $1 )); shift
  until "$@"; do
    [ "$(date +%s)" -lt "$end" ] || { echo "${0##*/}: timed out waiting for: $*" >&2; exit 1; }
    sleep 0.05
  done
}
