#!/usr/bin/env bash
# The experiment behind the unit's CapabilityBoundingSet (docs/privileges.md):
# runs `waitscope record` as an unprivileged user (setpriv, ambient
# capabilities only) against root-owned targets, once per capability set, and
# prints what worked: start-up, wait tracing, and symbol names for a binary
# on the host, in another mount namespace (as in a container) and in a
# directory the agent's user may not read.
#   tests/packaging/capability_matrix.sh [WAITSCOPE_BIN]   (root)
set -euo pipefail

bin=${1:-${WAITSCOPE_BIN:-/usr/bin/waitscope}}
user=${WAITSCOPE_USER:-nobody}
group=$(id -gn "$user")
[[ $(id -u) -eq 0 ]] || { echo "capability_matrix: run as root" >&2; exit 1; }
[[ -x $bin ]] || { echo "capability_matrix: no waitscope binary at $bin" >&2; exit 1; }

# Under /run, not /tmp: the sandbox row below hides /tmp, /home and /root.
work=$(mktemp -d /run/ws-capmatrix.XXXXXX)
ns_dir=/run/ws-capmatrix-ns
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work" /root/ws-capmatrix
  rmdir "$ns_dir" 2>/dev/null || true
}
trap cleanup EXIT

# A target whose only wait is usleep() inside a named function, so the folded
# stacks show whether its symbols were read.
cat >"$work/napper.c" <<'C'
#include <unistd.h>
__attribute__((noinline)) void napper_waits_here(void) { usleep(20000); }
int main(void) { for (;;) napper_waits_here(); }
C
cc -O1 -g -fno-omit-frame-pointer -o "$work/napper" "$work/napper.c"
chmod 755 "$work" "$work/napper"

# host: a world-readable binary; private: the same binary under /root (0700);
# container: the binary exists only inside the process's own mount namespace.
cp "$work/napper" "$work/napper_host"
mkdir -p /root/ws-capmatrix && chmod 700 /root/ws-capmatrix
cp "$work/napper" /root/ws-capmatrix/napper_private
mkdir -p "$ns_dir"
"$work/napper_host" & pids+=($!)
/root/ws-capmatrix/napper_private & pids+=($!)
unshare -m --propagation private sh -c \
  "mount -t tmpfs ws-capmatrix '$ns_dir' && cp '$work/napper' '$ns_dir/napper_ns' && exec '$ns_dir/napper_ns'" &
pids+=($!)
# Wait (bounded) until the namespaced napper has exec'd.
for _ in $(seq 100); do
  [[ $(cat /proc/"${pids[2]}"/comm 2>/dev/null) == napper_ns ]] && break
  sleep 0.05
done
[[ $(cat /proc/"${pids[2]}"/comm 2>/dev/null) == napper_ns ]] || { echo "capability_matrix: namespaced target did not start" >&2; exit 1; }

# The binary is copied beside the targets: /tmp and /root vanish in the sandbox.
cp "$bin" "$work/waitscope" && bin="$work/waitscope"
mkdir -p "$work/out" && chmod 777 "$work/out"
printf '%-44s %-5s %-7s %-5s %-9s %-7s\n' "capabilities" "exit" "traced" "host" "container" "private"
run() {
  local caps=$1 label=${2:-${1:-none}} sandbox=${3:-}
  local set="-all${caps:+,$caps}"
  local out="$work/out/${label//[^a-z_]/_}"
  local rc=0
  $sandbox setpriv --reuid="$user" --regid="$group" --clear-groups \
    --inh-caps="$set" --ambient-caps="$set" --bounding-set="$set" -- \
    "$bin" record -q -p "${pids[0]}" -p "${pids[1]}" -p "${pids[2]}" --duration 1s -o "$out" \
    >"$out.log" 2>&1 || rc=$?
  local folded="$out/waits.folded" traced=no host=no ns=no priv=no
  if [[ -s $folded ]]; then
    grep -q 'napper' "$folded" && traced=yes
    grep 'napper_host' "$folded" | grep -q 'napper_waits_here' && host=yes
    grep 'napper_ns' "$folded" | grep -q 'napper_waits_here' && ns=yes
    grep 'napper_private' "$folded" | grep -q 'napper_waits_here' && priv=yes
  fi
  printf '%-44s %-5s %-7s %-5s %-9s %-7s\n' "$label" "$rc" "$traced" "$host" "$ns" "$priv"
  [[ $rc -eq 0 ]] || sed 's/^/    /' "$out.log" | tail -n 2
}
run ""
run "+bpf"
run "+perfmon"
run "+bpf,+perfmon"
run "+bpf,+perfmon,+sys_ptrace"
run "+bpf,+perfmon,+dac_read_search"
run "+bpf,+perfmon,+sys_ptrace,+dac_read_search"
run "+perfmon,+sys_ptrace,+dac_read_search"
run "+bpf,+sys_ptrace,+dac_read_search"
# The unit's file-system view, approximated: read-only /, empty /home, /root
# and /tmp (ProtectSystem=strict, ProtectHome=yes, PrivateTmp=yes), the
# output directory a writable bind mount (as StateDirectory= is). Targets'
# files are still read through /proc/PID/root, i.e. in the target's own view.
cat >"$work/sandbox" <<SH
#!/bin/sh
exec unshare -m --propagation private sh -c 'mount --bind "$work/out" "$work/out" && mount -t tmpfs none /tmp && mount -t tmpfs none /home && mount -t tmpfs none /root && mount -o bind,remount,ro / && exec "\$@"' sandbox "\$@"
SH
chmod 755 "$work/sandbox"
run "+bpf,+perfmon,+sys_ptrace,+dac_read_search" "same, in a unit-like mount sandbox" "$work/sandbox"
run "+bpf,+perfmon,+dac_read_search" "no sys_ptrace, in a unit-like sandbox" "$work/sandbox"
# Memory for maps is charged to the memory cgroup on kernel >= 5.11, so no
# CAP_SYS_RESOURCE / CAP_IPC_LOCK: prove it with RLIMIT_MEMLOCK at 0.
echo "with RLIMIT_MEMLOCK=0 (prlimit --memlock=0):"
bin_orig=$bin
bin="$work/ws-memlock0"
printf '#!/bin/sh\nexec prlimit --memlock=0:0 %s "$@"\n' "$bin_orig" >"$bin" && chmod 755 "$bin"
run "+bpf,+perfmon,+sys_ptrace,+dac_read_search"
