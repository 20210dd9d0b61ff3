#!/bin/bash
# What following page faults costs, and how much of their time waitscope
# records (see BENCHMARKS.md, "Page-fault stacks"). Runs the test workload's
# `futex pagefault` phases (RUNS times), attached with `waitscope record -p`
# once the workload waits on stdin, with kernel.bpf_stats_enabled=1 around
# the phases only, and prints per run:
#   - the workload's own wall-minus-CPU time of its touch loop, and its
#     blocking faults (voluntary context switches in a loop with no syscall)
#   - the page_fault waits waitscope recorded under workload_touch_pages,
#     and their share of the workload's figure
#   - the sched_switch program's runs and average run time over the phases
# With tools/bench/fault_charge.patch applied to the build (a debug build,
# never committed), it also prints, per running period between faults, the
# CPU time the scheduler charged against the time waitscope's own switch-in
# and switch-out stamps span: the wake-up charge docs/design.md describes
# ("What counts as a wait"):
#   git apply tools/bench/fault_charge.patch && cmake --build BUILD_DIR
#   tools/bench/fault_cost.sh BUILD_DIR 3; git apply -R tools/bench/fault_charge.patch
# Root only; restores bpf_stats_enabled.
# Usage: tools/bench/fault_cost.sh [BUILD_DIR] [RUNS] [PHASES...]
#        (default: build, 3 runs, phases "futex pagefault")
set -euo pipefail
B=${1:-build}
RUNS=${2:-3}
shift $(( $# < 2 ? $# : 2 ))
PHASES=("$@")
[ ${#PHASES[@]} -gt 0 ] || PHASES=(futex pagefault)
W=${WAITSCOPE:-$B/agent/cli/waitscope}  # WAITSCOPE=another build, same workload
WL=$B/tests/testprogs/workload/workload
for f in "$W" "$WL"; do
  [ -x "$f" ] || { echo "fault_cost.sh: $f not found (build it first)" >&2; exit 2; }
done
TMP=$(mktemp -d)
# shellcheck source=tools/bench/bpf_stats_lib.sh
. "$(dirname "$0")/bpf_stats_lib.sh"
cleanup() { bpf_stats_restore; jobs -p | xargs -r kill 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

ready() { grep -q ready "$1"; }

echo "phases: ${PHASES[*]}; $W"
for run in $(seq "$RUNS"); do
  R=$TMP/$run; mkdir "$R"; mkfifo "$R/in"
  WORKLOAD_DIR=$R $WL "$R/m.json" wait-stdin "${PHASES[@]}" < "$R/in" > "$R/wl.out" &
  WLP=$!
  exec 7> "$R/in"
  wait_for 10 ready "$R/wl.out"
  $W record -q -o "$R/r" -p $WLP --duration 30 2> "$R/err" &
  WP=$!
  wait_for 30 holds_links $WP 1
  bpf_stats 1
  bpftool prog show --json > "$R/before.json"
  echo go >&7; exec 7>&-
  wait $WLP
  bpftool prog show --json > "$R/after.json"
  # A build with tools/bench/fault_charge.patch keeps dbg_* counters in .bss.
  awk '/^map_id:/ {print $2}' /proc/$WP/fdinfo/* 2>/dev/null | sort -u | while read -r map; do
    if bpftool map show id "$map" | grep -q '\.bss'; then
      bpftool map dump id "$map" --json > "$R/bss.json" 2>/dev/null || true
    fi
  done
  bpf_stats_restore
  kill -INT $WP; wait $WP || true
  /usr/bin/python3 - "$R" "$run" <<'PY'
import json, sys
r, run = sys.argv[1], sys.argv[2]
m = json.load(open(f"{r}/m.json"))["pagefault"]
under = 0
for line in open(f"{r}/r/waits.folded"):
    stack, value = line.rsplit(" ", 1)
    if stack.endswith(";page_fault") and "workload_touch_pages" in stack:
        under += int(value)
before = {p["id"]: p for p in json.load(open(f"{r}/before.json"))}
prog = ""
for p in json.load(open(f"{r}/after.json")):
    if p.get("name", "").endswith("sched_switch") and p["id"] in before:
        n = p.get("run_cnt", 0) - before[p["id"]].get("run_cnt", 0)
        t = p.get("run_time_ns", 0) - before[p["id"]].get("run_time_ns", 0)
        if n:
            prog = f"; {p['name']} {n} runs, {t / n:.0f} ns/run"
off = m["offcpu_ns"]
print(f"run {run}: workload {off / 1e6:.2f} ms off CPU in {m['blocks']} blocking faults; "
      f"waitscope {under / 1e6:.2f} ms ({100 * under / off:.0f} %){prog}")
try:
    dbg = {}
    for entry in json.load(open(f"{r}/bss.json")):
        for section in entry.get("formatted", {}).get("value", {}).values():
            for var in section:
                dbg.update({k: v for k, v in var.items() if k.startswith("dbg_")})
except (OSError, ValueError, AttributeError):
    dbg = {}
if dbg.get("dbg_periods"):
    extra = dbg["dbg_period_sched_ns"] - dbg["dbg_period_ours_ns"]
    print(f"  fault_charge: {dbg['dbg_fault_blocks']} blocks, {dbg['dbg_block_ns'] / 1e6:.2f} ms, "
          f"CPU charged inside them {dbg['dbg_exec_in_block_ns']} ns; "
          f"{dbg['dbg_periods']} running periods: the scheduler charged "
          f"{dbg['dbg_period_sched_ns'] / 1e6:.2f} ms, waitscope's switch times span "
          f"{dbg['dbg_period_ours_ns'] / 1e6:.2f} ms ({extra / dbg['dbg_periods'] / 1e3:+.2f} us "
          f"per period; waitscope minus workload: {(under - off) / 1e6:+.2f} ms)")
PY
done
