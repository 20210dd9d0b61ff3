#!/bin/bash
# Where does waitscope's per-syscall cost go? Runs the getppid loop (and the
# pipe and socket ping-pongs) traced and untraced with kernel.bpf_stats_enabled=1 and prints
# each waitscope BPF program's run count and average run time (bpftool).
# The rest of the added time (vs. overhead.py's numbers) is outside the BPF
# programs: tracepoint dispatch and the syscall slow path. Root only; restores
# bpf_stats_enabled. bpf_stats itself adds two clock reads per program run;
# the floor section measures an empty program on the untraced ping-pong, the
# floor to subtract. The redis section gives the socket programs' cost on a
# traced redis-benchmark client (needs redis-server and redis-benchmark).
# Usage: [REDIS_PIPELINE=N] tools/bench/prog_cost.sh [BUILD_DIR [SECTION...]]
#   BUILD_DIR defaults to /work/build-bench; SECTION: syscalls, pingpong,
#   sockets, floor, redis (default: all five, in that order). WAITSCOPE=PATH measures
#   another waitscope binary (e.g. another commit's) with BUILD_DIR's tools.
set -euo pipefail
B=${1:-/work/build-bench}
shift || true
SECTIONS=${*:-syscalls pingpong sockets floor redis}
W=${WAITSCOPE:-$B/agent/cli/waitscope}
P=$B/tools/bench/pingpong
CPU=$(( $(nproc) - 1 ))
TMP=$(mktemp -d)
# shellcheck source=tools/bench/bpf_stats_lib.sh
. "$(dirname "$0")/bpf_stats_lib.sh"
cleanup() { bpf_stats_restore; rm -rf "$TMP"; }
trap cleanup EXIT
bpf_stats 1

stats() {  # waitscope pid -> "name run_cnt run_time_ns" lines, for the programs it holds
  local ids
  ids=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u | tr '\n' ' ')
  bpftool prog show --json | /usr/bin/python3 -c '
import json, sys
ids = set(int(x) for x in sys.argv[1].split())
for p in json.load(sys.stdin):
    if p["id"] in ids:
        print(p["name"], p.get("run_cnt", 0), p.get("run_time_ns", 0))' "$ids"
}
report() {  # label, before-file, after-file, workload syscalls-per-op label
  /usr/bin/python3 - "$@" <<'PY'
import sys
label, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
def load(f):
    return {l.split()[0]: (int(l.split()[1]), int(l.split()[2])) for l in open(f) if l.strip()}
A, B = load(a), load(b)
print(f"== {label}")
for name in sorted(B):
    c0, t0 = A.get(name, (0, 0)); c1, t1 = B[name]
    if c1 > c0:
        print(f"  {name:20s} runs {c1 - c0:10d}  avg {(t1 - t0) / (c1 - c0):7.1f} ns/run")
PY
}
measure() {  # label, waitscope pid
  sleep 1; stats "$2" > "$TMP/a"; sleep 3; stats "$2" > "$TMP/b"; report "$1" "$TMP/a" "$TMP/b"
}

wanted() { [[ " $SECTIONS " == *" $1 "* ]]; }

for section in syscalls pingpong sockets; do
  wanted $section || continue
  case $section in
    syscalls) workload=(syscalls 40000000) ;;
    pingpong) workload=(400000000) ;;
    sockets) workload=(sockets 400000000) ;;
  esac
  # traced: attach to a running workload
  $P --cpu $CPU "${workload[@]}" > "$TMP/out" & WL=$!
  $W record -q -o "$TMP/t" -p $WL 2>/dev/null & WS=$!
  wait_for 30 holds_links $WS 6
  measure "traced: pingpong ${workload[*]}" $WS
  kill -INT $WS; wait $WS || true; kill $WL; wait $WL 2>/dev/null || true
  # untraced: waitscope records a sleeping process
  sleep 100000 & SL=$!
  $W record -q -o "$TMP/u" -p $SL 2>/dev/null & WS=$!
  wait_for 30 holds_links $WS 6
  $P --cpu $CPU "${workload[@]}" > "$TMP/out" & WL=$!
  measure "untraced: pingpong ${workload[*]}" $WS
  kill $WL; wait $WL 2>/dev/null || true
  kill -INT $WS; wait $WS || true; kill $SL; wait $SL 2>/dev/null || true
done

# The floors under the untraced figures: an empty sched_switch program
# (tools/bench/hook_floor mode 5) on the pipe ping-pong, and empty socket
# programs (mode 7) on the socket ping-pong; waitscope's untraced bodies are
# its averages above minus these.
if wanted floor; then
  for mode in 5 7; do
    if [ $mode = 5 ]; then workload=(400000000); what="an empty sched_switch program";
    else workload=(sockets 400000000); what="empty socket programs"; fi
    sleep 100000 & SL=$!
    "$B/tools/bench/hook_floor" $mode $SL > "$TMP/hf" & HF=$!
    wait_for 30 grep -q attached "$TMP/hf"
    $P --cpu $CPU "${workload[@]}" > "$TMP/out" & WL=$!
    measure "untraced: pingpong ${workload[*]}, $what (hook_floor $mode)" $HF
    kill $WL; wait $WL 2>/dev/null || true
    kill -INT $HF; wait $HF || true; kill $SL; wait $SL 2>/dev/null || true
  done
fi

# The socket programs on a traced Redis client: redis-benchmark -P 1, each
# command one send and one receive (waitscope attaches to the running client
# and adopts its open connections at their next data). REDIS_PIPELINE=16:
# 16 commands per send instead.
if wanted redis; then
  if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "== redis: skipped, redis-server or redis-benchmark (redis-tools) is not installed" >&2
    exit 0
  fi
  PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no > "$TMP/redis.log" & RS=$!
  redis_up() { redis-cli -p "$PORT" ping > /dev/null 2>&1; }
  wait_for 10 redis_up
  PIPE=${REDIS_PIPELINE:-1}
  redis-benchmark -p "$PORT" -t get -n 1000000000 -c 16 -P "$PIPE" -q > /dev/null 2>&1 & RB=$!
  $W record -q -o "$TMP/r" -p $RB 2>/dev/null & WS=$!
  wait_for 30 holds_links $WS 6
  measure "traced: redis-benchmark -t get -c 16 -P $PIPE" $WS
  kill -INT $WS; wait $WS || true
  kill $RB $RS; wait $RB $RS 2>/dev/null || true
fi
