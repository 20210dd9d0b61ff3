#!/bin/bash
# What the default agent (every process traced: `trace_all`) costs a workload
# whose threads wake each other across CPUs, so that most context switches
# are to or from the idle task. Alternates, for ROUNDS rounds: the unpinned
# pipe ping-pong alone, then under `waitscope agent` for each binary given;
# prints the ping-pong's CPU and wall ns per syscall (medians), then, in a
# separate pass with kernel.bpf_stats_enabled=1 (it adds two clock reads per
# run), the sched_switch program's runs/s and ns per run under each binary,
# with the ping-pong running and with no workload (an idle machine: nearly
# every switch is to or from the idle task or a kernel thread).
# Root only; restores bpf_stats_enabled; the agents export Prometheus on
# 127.0.0.1:$PORT only.
# Usage: [ROUNDS=5] [ROUND_TRIPS=50000] tools/bench/agent_switch_cost.sh \
#          BUILD_DIR [WAITSCOPE...]   (default WAITSCOPE: BUILD_DIR's)
set -euo pipefail
B=$1
shift
BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || BINS=("$B/agent/cli/waitscope")
P=$B/tools/bench/pingpong
ROUNDS=${ROUNDS:-5}
ROUND_TRIPS=${ROUND_TRIPS:-50000}
PORT=${PORT:-19464}
TMP=$(mktemp -d)
AG=
# shellcheck source=tools/bench/bpf_stats_lib.sh
. "$(dirname "$0")/bpf_stats_lib.sh"
cleanup() {
  [ -z "$AG" ] || kill "$AG" 2>/dev/null || true
  wait 2>/dev/null || true
  bpf_stats_restore
  rm -rf "$TMP"
}
trap cleanup EXIT
printf 'exports:\n  prometheus:\n    enabled: true\n    listen: 127.0.0.1:%s\n' "$PORT" > "$TMP/ws.yaml"

start_agent() {  # WAITSCOPE: starts it, waits until it serves /metrics (probes attached)
  "$1" agent -c "$TMP/ws.yaml" > "$TMP/agent.log" 2>&1 &
  AG=$!
  wait_for 60 curl -sf -o /dev/null "http://127.0.0.1:$PORT/metrics"
}
stop_agent() { kill "$AG"; wait "$AG" || true; AG=; }

pingpong() {  # LABEL: one unpinned run, appends "LABEL cpu wall" to $TMP/pp
  "$P" "$ROUND_TRIPS" | /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.stdin.read().strip().splitlines()[-1])
print(sys.argv[1], r["cpu_ns_per_syscall"], r["ns_per_syscall"])' "$1" >> "$TMP/pp"
}

switch_stats() {  # "run_cnt run_time_ns" of the agent's sched_switch program
  local ids
  ids=$(grep -h '^prog_id:' /proc/"$AG"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u | tr '\n' ' ')
  bpftool prog show --json | /usr/bin/python3 -c '
import json, sys
ids = set(int(x) for x in sys.argv[1].split())
print(*next((p.get("run_cnt", 0), p.get("run_time_ns", 0)) for p in json.load(sys.stdin)
            if p["id"] in ids and "sched_switch" in p["name"]))' "$ids"
}

bpf_stats 0
for r in $(seq "$ROUNDS"); do
  pingpong plain
  for i in "${!BINS[@]}"; do
    start_agent "${BINS[$i]}"
    pingpong "agent$i"
    stop_agent
  done
  echo "round $r/$ROUNDS done" >&2
done

measure_switch() {  # FILE LABEL: 3 s of the running agent's sched_switch stats
  local c0 t0 c1 t1
  sleep 1
  read -r c0 t0 < <(switch_stats)
  sleep 3
  read -r c1 t1 < <(switch_stats)
  echo "$2 $(( (c1 - c0) / 3 )) $(( (t1 - t0) / (c1 - c0 > 0 ? c1 - c0 : 1) ))" >> "$1"
}

bpf_stats 1
for r in $(seq "$ROUNDS"); do
  for i in "${!BINS[@]}"; do
    start_agent "${BINS[$i]}"
    measure_switch "$TMP/idle" "agent$i"
    "$P" 100000000 > /dev/null & PP=$!
    measure_switch "$TMP/sw" "agent$i"
    kill "$PP"; wait "$PP" 2>/dev/null || true
    stop_agent
  done
done

/usr/bin/python3 - "$TMP/pp" "$TMP/sw" "$TMP/idle" "${BINS[@]}" <<'PY'
import statistics, sys
pp, sw, idle, bins = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def rows(path):
    out = {}
    for line in open(path):
        label, *vals = line.split()
        out.setdefault(label, []).append([float(v) for v in vals])
    return out
P, S, I = rows(pp), rows(sw), rows(idle)
med = lambda xs, k: statistics.median(x[k] for x in xs)
rng = lambda xs, k: f"{min(x[k] for x in xs):.0f}..{max(x[k] for x in xs):.0f}"
base = med(P["plain"], 0)
print(f"unpinned ping-pong, {len(P['plain'])} rounds; medians (min..max)")
print("| config | CPU ns/syscall | added | wall ns/syscall | sched_switch runs/s | ns/run "
      "| idle machine: runs/s | ns/run |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
print(f"| plain | {base:.0f} ({rng(P['plain'], 0)}) | – | {med(P['plain'], 1):.0f} | – | – | – | – |")
for i, b in enumerate(bins):
    p, s, q = P[f"agent{i}"], S[f"agent{i}"], I[f"agent{i}"]
    print(f"| agent: {b} | {med(p, 0):.0f} ({rng(p, 0)}) | {med(p, 0) - base:+.0f} | {med(p, 1):.0f} | "
          f"{med(s, 0):.0f} | {med(s, 1):.0f} ({rng(s, 1)}) | {med(q, 0):.0f} | "
          f"{med(q, 1):.0f} ({rng(q, 1)}) |")
PY
