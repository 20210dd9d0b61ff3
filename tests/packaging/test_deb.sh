#!/usr/bin/env bash
# The Debian package, end to end (root; ctest label `package`):
#  1. builds the .deb (tools/build-deb.sh) unless WAITSCOPE_DEB names one;
#     checks its control data (Depends from dpkg-shlibdeps, conffiles);
#  2. dpkg -i; files, user, config permissions, man page, `systemd-analyze
#     verify` and the offline exposure score of the installed unit;
#  3. runs the unit's ExecStart line (parsed from the installed unit) as the
#     unit's user with exactly the unit's capabilities (setpriv), inside a
#     mount namespace that approximates its sandbox (read-only /, empty /home,
#     /root and /tmp, hidepid=ptraceable /proc, writable /var/lib/waitscope),
#     while redis-benchmark loads a Redis server (a 5 s window through
#     OTEL_METRIC_EXPORT_INTERVAL); a real Prometheus scrapes
#     127.0.0.1:9464 and the checks go through Prometheus's HTTP API;
#  4. SIGTERM: the agent exits 0 and none of its BPF programs or links remain;
#  5. each of the unit's capabilities removed in turn: the agent exits
#     non-zero naming the capability; with --allow-missing-capabilities it
#     starts without CAP_SYS_PTRACE / CAP_DAC_READ_SEARCH (fewer symbols) and
#     names them in its log;
#  6. dpkg -r keeps the conffile, dpkg -P removes it, the state and overrides.
# Usage: tests/packaging/test_deb.sh [--no-agent]   (--no-agent: steps 1, 2, 6)
# Exits 0 on success, 1 on a failure (the last line says what), 77 when this
# machine cannot load BPF at all.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
unit_path=/lib/systemd/system/waitscope.service
config=/etc/waitscope/waitscope.yaml
metrics_addr=127.0.0.1:9464
timeout_s=${WAITSCOPE_DEB_TIMEOUT:-180}
with_agent=1
[[ ${1:-} == --no-agent ]] && with_agent=0

passed=0
pass() { passed=$((passed + 1)); echo "test_deb: ok   $*"; }
fail() { echo "test_deb: FAIL $*" >&2; echo "test_deb: $passed passed, 1 failed" >&2; exit 1; }
skip() { echo "test_deb: SKIP $*" >&2; exit 77; }

[[ $(id -u) -eq 0 ]] || skip "needs root (dpkg -i, BPF)"
[[ -r /sys/kernel/btf/vmlinux ]] || skip "this kernel has no BTF (/sys/kernel/btf/vmlinux)"
need() { command -v "$1" >/dev/null || fail "$1 not found: install the Debian package $2 (tools/install-deps.sh --test)"; }
need dpkg-deb dpkg
need systemd-analyze systemd
need setpriv util-linux
need unshare util-linux
need man man-db
need groff groff-base
need curl curl
if [[ $with_agent == 1 ]]; then
  need redis-server redis-server
  need redis-benchmark redis-tools
  need prometheus prometheus
  need bpftool bpftool
fi

work=$(mktemp -d /run/ws-test-deb.XXXXXX) # not /tmp: the sandbox hides /tmp
chmod 755 "$work"
pids=()
installed_by_us=0
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ $installed_by_us == 1 ]] && dpkg-query -W -f='${Status}' waitscope 2>/dev/null | grep -qv not-installed; then
    dpkg -P waitscope >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_for() {
  local secs=$1 # $2 names what is awaited, for the reader
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
alive() { kill -0 "$1" 2>/dev/null; }

# ---- 1. the package -------------------------------------------------------
deb=${WAITSCOPE_DEB:-}
if [[ -z $deb ]]; then
  echo "test_deb: building the package (tools/build-deb.sh)"
  deb=$("$repo/tools/build-deb.sh" "${WAITSCOPE_DEB_BUILD_DIR:-$repo/build-deb}" | tail -n 1) ||
    fail "tools/build-deb.sh failed (output above)"
fi
[[ -f $deb ]] || fail "no package at '$deb'"
info=$(dpkg-deb -I "$deb")
depends=$(dpkg-deb -f "$deb" Depends)
dep_names=$(tr ',|' '\n\n' <<<"$depends" | sed 's/(.*//; s/ //g')
# libspdlog1.10 is a prefix: Debian 12 names it libspdlog1.10-fmt9.
for lib in libbpf1 libelf1 zlib1g libprotobuf32 libfmt9 libspdlog1.10 libstdc++6 libc6 adduser; do
  awk -v l="$lib" 'index($0, l) == 1 { found = 1 } END { exit !found }' <<<"$dep_names" ||
    fail "Depends lacks $lib (dpkg-shlibdeps should add it): Depends: $depends"
done
pass "Depends: $depends"
[[ $(dpkg-deb -f "$deb" Package) == waitscope && $(dpkg-deb -f "$deb" Section) == admin ]] ||
  fail "control: Package/Section are not waitscope/admin"
conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)
grep -qx "$config" <<<"$conffiles" ||
  fail "conffiles does not list $config"
for script in postinst prerm postrm; do
  grep -Eq "^\s+[0-9]+ bytes,\s+[0-9]+ lines\s+\*\s+$script" <<<"$info" || fail "control archive lacks an executable $script"
done
pass "conffiles lists $config; postinst, prerm, postrm present"

# ---- 2. install -----------------------------------------------------------
dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1 || { cat "$work/dpkg-i.log" >&2; fail "dpkg -i $deb failed"; }
installed_by_us=1
[[ $(dpkg-query -W -f='${Status}' waitscope) == "install ok installed" ]] || fail "dpkg-query: waitscope not 'install ok installed'"
for f in /usr/bin/waitscope "$config" "$unit_path" /usr/share/man/man8/waitscope.8.gz /usr/share/doc/waitscope/copyright; do
  [[ -f $f ]] || fail "$f is missing after dpkg -i"
done
[[ -x /usr/bin/waitscope ]] || fail "/usr/bin/waitscope is not executable"
/usr/bin/waitscope --version >/dev/null || fail "/usr/bin/waitscope --version failed (missing library?)"
getent passwd waitscope >/dev/null || fail "postinst did not create the user waitscope"
[[ $(stat -c '%U:%G %a' "$config") == "root:waitscope 640" ]] ||
  fail "$config is $(stat -c '%U:%G %a' "$config"), expected root:waitscope 640 (postinst statoverride)"
pass "files in place; user waitscope; $config root:waitscope 0640"
man_warnings=$(zcat /usr/share/man/man8/waitscope.8.gz | groff -man -ww -z 2>&1)
[[ -z $man_warnings ]] || fail "the man page has groff warnings: $man_warnings"
man_text=$(MANWIDTH=80 man -P cat waitscope 2>&1 || true)
grep -q '^SYNOPSIS' <<<"$man_text" || fail "man waitscope does not render: $(head -n 2 <<<"$man_text")"
pass "man waitscope renders without warnings"
verify_out=$(systemd-analyze verify "$unit_path" 2>&1) || fail "systemd-analyze verify $unit_path: $verify_out"
[[ -z $verify_out ]] || fail "systemd-analyze verify $unit_path warns: $verify_out"
exposure=$(systemd-analyze security --offline=true --no-pager "$unit_path" 2>&1 |
  sed -n 's/.*Overall exposure level for waitscope.service: \([0-9.]*\).*/\1/p')
[[ -n $exposure ]] || fail "systemd-analyze security --offline=true printed no exposure level"
"$py" -c "import sys; sys.exit(0 if float('$exposure') <= 3.0 else 1)" ||
  fail "unit exposure $exposure is above 3.0"
pass "systemd-analyze verify clean; exposure $exposure"

# ---- the unit's command, user and capabilities ----------------------------
unit_value() { sed -n "s/^$1=//p" "$unit_path" | tail -n 1; }
exec_start=$(unit_value ExecStart)
unit_user=$(unit_value User)
unit_group=$(unit_value Group)
bounding=$(unit_value CapabilityBoundingSet)
ambient=$(unit_value AmbientCapabilities)
[[ -n $exec_start && -n $unit_user && -n $ambient ]] || fail "the unit lacks ExecStart, User or AmbientCapabilities"
[[ $bounding == "$ambient" ]] || fail "CapabilityBoundingSet ($bounding) differs from AmbientCapabilities ($ambient)"
read -r -a exec_argv <<<"$exec_start"
caps=()
for c in $ambient; do caps+=("${c#CAP_}"); done
# setpriv spelling of a capability list: CAP_BPF CAP_SYS_PTRACE -> +bpf,+sys_ptrace
cap_set() { local s="-all" c; for c in "$@"; do s+=",+${c,,}"; done; echo "$s"; }

state_dir=/var/lib/waitscope
# The shipped config leaves `window:` commented out, so the agent cuts a window
# every OTEL_METRIC_EXPORT_INTERVAL ms (what an `Environment=` line of a unit
# drop-in would set): 5 s instead of the default 60 s, so the first redis-server
# series reach Prometheus within seconds, not a minute.
export OTEL_METRIC_EXPORT_INTERVAL=${WAITSCOPE_DEB_WINDOW_MS:-5000}
# run_unit LOG CAP...: the ExecStart line as systemd would start it (plus
# $extra_args and the environment above), in the background; sets $agent_pid.
extra_args=()
run_unit() {
  local log=$1
  shift
  local set
  set=$(cap_set "$@")
  # What systemd does for StateDirectory=waitscope, StateDirectoryMode=0750.
  install -d -o "$unit_user" -g "$unit_group" -m 0750 "$state_dir"
  unshare -m --propagation private sh -c '
      mount --bind "$0" "$0" &&
      mount -t tmpfs -o mode=1777 none /tmp && mount -t tmpfs none /home && mount -t tmpfs none /root &&
      mount -t proc -o hidepid=ptraceable proc /proc &&
      mount -o bind,remount,ro / && exec "$@"' "$state_dir" \
    setpriv --reuid="$unit_user" --regid="$unit_group" --clear-groups --no-new-privs \
    --inh-caps="$set" --ambient-caps="$set" --bounding-set="$set" -- "${exec_argv[@]}" "${extra_args[@]}" \
    >"$log" 2>&1 &
  agent_pid=$!
  pids+=("$agent_pid")
}

if [[ $with_agent == 1 ]]; then
  # ---- 3. the agent under load, scraped by Prometheus ---------------------
  help=$(/usr/bin/waitscope --help 2>&1 || true)
  if ! grep -Eq '^\s+agent(\s|$)' <<<"$help"; then
    fail "the installed waitscope has no 'agent' subcommand yet (waitscope --help lists: $(sed -n '/^Subcommands:/,$p' <<<"$help" | tail -n +2 | awk '{print $1}' | tr '\n' ' '))"
  fi
  if curl -s -o /dev/null "http://$metrics_addr/metrics"; then
    fail "something already listens on $metrics_addr (another waitscope agent?); the default config needs that port"
  fi
  bpftool prog show -j >/dev/null || fail "bpftool prog show failed"

  redis_port=$(free_port)
  mkdir -p "$work/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work/redis" \
    >"$work/redis.log" 2>&1 &
  redis_pid=$!
  pids+=("$redis_pid")
  wait_for 20 redis redis-cli -p "$redis_port" ping || fail "redis-server on 127.0.0.1:$redis_port did not answer PING in 20s"

  run_unit "$work/agent.log" "${caps[@]}"
  main_agent=$agent_pid
  metrics_up() { alive "$main_agent" && curl -sf -o /dev/null "http://$metrics_addr/metrics"; }
  if ! wait_for 60 metrics metrics_up; then
    alive "$main_agent" || fail "the agent ($exec_start, as $unit_user with $ambient) exited early: $(tail -n 5 "$work/agent.log")"
    fail "the agent did not serve http://$metrics_addr/metrics within 60s; log: $(tail -n 5 "$work/agent.log")"
  fi
  pass "agent serves http://$metrics_addr/metrics as $unit_user with only $ambient"

  # Bounded load: at most 600 rounds, stopped as soon as the checks pass.
  (for _ in $(seq 600); do redis-benchmark -p "$redis_port" -q -n 5000 -c 4 -t get,set >/dev/null 2>&1 || sleep 0.2; done) &
  pids+=($!)

  prom_port=$(free_port)
  mkdir -p "$work/prom-data"
  cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: waitscope
    static_configs:
      - targets: ["$metrics_addr"]
EOF
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom-data" \
    --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
  prom_pid=$!
  pids+=("$prom_pid")
  wait_for 60 prometheus curl -sf "http://127.0.0.1:$prom_port/-/ready" ||
    fail "Prometheus did not become ready on 127.0.0.1:$prom_port: $(tail -n 3 "$work/prometheus.log")"

  # prom_query QUERY: prints the API's JSON for an instant query.
  prom_query() { curl -sf -G "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1"; }
  scrape_up() {
    prom_query 'up{job="waitscope"}' | "$py" -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
sys.exit(0 if r and r[0]["value"][1] == "1" else 1)'
  }
  wait_for 60 up scrape_up ||
    fail "Prometheus: up{job=\"waitscope\"} is not 1 after 60s: $(prom_query 'up{job="waitscope"}')"
  pass "Prometheus scrapes the agent: up{job=\"waitscope\"} == 1"

  # Any waitscope_* series that names the redis-server process (in any label)
  # with a value above zero: the agent traced the server under load.
  redis_series() {
    prom_query '{__name__=~"waitscope_.+"}' >"$work/series.json" || return 1
    "$py" - "$work/series.json" >"$work/redis-series.txt" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["data"]["result"]
hits = [r for r in res
        if any("redis-server" in v for k, v in r["metric"].items() if k != "__name__")
        and float(r["value"][1]) > 0]
for r in hits[:5]:
    print(r["metric"], r["value"][1])
sys.exit(0 if hits else 1)
PY
  }
  if ! wait_for "$timeout_s" series redis_series; then
    names=$("$py" -c 'import json,sys; print(sorted({r["metric"]["__name__"] for r in json.load(open(sys.argv[1]))["data"]["result"]})[:20])' "$work/series.json" 2>/dev/null || true)
    fail "no waitscope_* series with a redis-server label above 0 within ${timeout_s}s (window in $config?); waitscope_* names seen: ${names:-none}"
  fi
  pass "Prometheus has waitscope series for redis-server: $(head -n 1 "$work/redis-series.txt")"

  # ---- 4. SIGTERM: clean exit, nothing left in the kernel -----------------
  # unshare, sh and setpriv exec in turn: $main_agent is the agent itself.
  grep -h -E '^(prog_id|link_id):' /proc/"$main_agent"/fdinfo/* 2>/dev/null | sort -u >"$work/agent-bpf-ids" || true
  [[ -s $work/agent-bpf-ids ]] || fail "found no BPF program or link fds in the agent (pid $main_agent)"
  kill -TERM "$main_agent"
  wait_for 30 exit bash -c "! kill -0 $main_agent" || fail "the agent did not exit within 30s of SIGTERM"
  rc=0
  wait "$main_agent" || rc=$?
  [[ $rc == 0 ]] || fail "the agent exited $rc after SIGTERM, expected 0: $(tail -n 3 "$work/agent.log")"
  # The kernel frees closed programs and links asynchronously (after an RCU
  # grace period): wait for them to go rather than look once.
  agent_bpf_left() {
    local progs links kind id
    progs=$(bpftool prog show -j | "$py" -c 'import json,sys; print(" ".join(str(p["id"]) for p in json.load(sys.stdin)))')
    links=$(bpftool link show -j | "$py" -c 'import json,sys; print(" ".join(str(l["id"]) for l in json.load(sys.stdin)))')
    : >"$work/agent-bpf-left"
    while read -r kind id; do
      case $kind in
        prog_id:) [[ " $progs " != *" $id "* ]] || echo "program $id" >>"$work/agent-bpf-left" ;;
        link_id:) [[ " $links " != *" $id "* ]] || echo "link $id" >>"$work/agent-bpf-left" ;;
      esac
    done <"$work/agent-bpf-ids"
    [[ ! -s $work/agent-bpf-left ]]
  }
  wait_for 15 unloaded agent_bpf_left ||
    fail "BPF objects of the agent still loaded 15s after it exited: $(tr '\n' ' ' <"$work/agent-bpf-left")"
  pass "SIGTERM: exit 0; its $(wc -l <"$work/agent-bpf-ids") BPF programs/links are gone (bpftool prog/link show)"

  # ---- 5. each capability removed ----------------------------------------
  for drop in "${caps[@]}"; do
    rest=()
    for c in "${caps[@]}"; do [[ $c == "$drop" ]] || rest+=("$c"); done
    log="$work/agent-no-${drop,,}.log"
    run_unit "$log" "${rest[@]}"
    named() { grep -q "CAP_$drop" "$log"; }
    wait_for 30 exit bash -c "! kill -0 $agent_pid" || fail "without CAP_$drop the agent still runs after 30s"
    rc=0
    wait "$agent_pid" || rc=$?
    [[ $rc != 0 ]] || fail "without CAP_$drop the agent exited 0"
    named || fail "without CAP_$drop the agent exited $rc without naming CAP_$drop: $(tail -n 2 "$log")"
    pass "without CAP_$drop: exit $rc, '$(grep -m1 "CAP_$drop" "$log" | cut -c1-150)'"
    case $drop in
      BPF | PERFMON) ;;
      *)
        # Asked to, it runs with the partial view and says what is missing.
        extra_args=(--allow-missing-capabilities)
        run_unit "$log" "${rest[@]}"
        extra_args=()
        started() { grep -q "agent started" "$log"; }
        wait_for 30 started started ||
          fail "without CAP_$drop and with --allow-missing-capabilities the agent did not start: $(tail -n 2 "$log")"
        named || fail "the agent started without CAP_$drop but did not name it: $(head -n 2 "$log")"
        kill -TERM "$agent_pid" 2>/dev/null || true
        wait_for 30 exit bash -c "! kill -0 $agent_pid" || fail "the agent without CAP_$drop did not stop on SIGTERM"
        wait "$agent_pid" || true
        pass "without CAP_$drop, --allow-missing-capabilities: runs, '$(grep -m1 "CAP_$drop" "$log" | cut -c1-150)'"
        ;;
    esac
  done
fi

# ---- 6. remove, then purge ------------------------------------------------
dpkg -r waitscope >"$work/dpkg-r.log" 2>&1 || { cat "$work/dpkg-r.log" >&2; fail "dpkg -r waitscope failed"; }
[[ ! -e /usr/bin/waitscope && ! -e $unit_path ]] || fail "dpkg -r left /usr/bin/waitscope or the unit"
[[ -f $config ]] || fail "dpkg -r removed the conffile $config (it must stay until purge)"
[[ $(dpkg-query -W -f='${db:Status-Abbrev}' waitscope) == "rc " ]] || fail "after dpkg -r the status is not 'rc'"
pass "dpkg -r: binary and unit gone, $config kept"
dpkg -P waitscope >"$work/dpkg-p.log" 2>&1 || { cat "$work/dpkg-p.log" >&2; fail "dpkg -P waitscope failed"; }
[[ ! -e $config && ! -e /etc/waitscope ]] || fail "dpkg -P left $config or /etc/waitscope"
[[ ! -e $state_dir ]] || fail "dpkg -P left $state_dir"
! dpkg-statoverride --list "$config" >/dev/null || fail "dpkg -P left the statoverride on $config"
installed_by_us=0
pass "dpkg -P: conffile, /etc/waitscope, $state_dir and the statoverride gone"

echo "test_deb: $passed passed, 0 failed"
