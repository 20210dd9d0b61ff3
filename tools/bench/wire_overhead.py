#!/usr/bin/python3
"""waitscope wire-tracing overhead on a traced database client (see BENCHMARKS.md).

Standard library only; run as root. Starts its own redis-server and PostgreSQL 15
(initdb as user postgres into a temporary directory under /var/tmp, 127.0.0.1 on free
ports, `pgbench -i` untraced), then, alternating (the order rotates every round), --runs
rounds of each workload and configuration:

  redis      redis-benchmark -h 127.0.0.1 -p PORT -t get,set -n N -c 16 -q  (and with -P 16;
             N = --redis-requests times the pipeline depth: a pipelined test runs for
             seconds, as an unpipelined one does, not for the 0.2 s that 200k pipelined
             requests take, which measured a smaller loss than the steady state's)
  pgbench    pgbench -S -T 10 -c 4 -j 2 (TCP to 127.0.0.1)

  plain      the client alone
  traced     waitscope record -q -o TMP -- CLIENT     (payload capture on: the default)
  cap=N      waitscope record -q -o TMP --capture-bytes N -- CLIENT  (--capture-bytes, to
             split the cost: 0 turns wire tracing off, 256 copies a little per syscall)

  traced@base  as traced, with the binary given by --baseline-waitscope (another build,
             e.g. the commit before a change): a change's effect measured in the same run

Diagnostics (only with --diagnose, e.g. --diagnose stopped,sched-idle,nice19): where the
cost is.
  stopped    traced, but waitscope gets SIGSTOP once it has attached and SIGCONT after the
             client exits: the producer side alone (hooks, copies, ring buffers) with
             nobody consuming; ring-buffer drops are expected and shown
  sched-idle traced, every thread of waitscope moved to SCHED_IDLE once it has attached
             (what `chrt -a -i -p 0 PID` does): the agent only runs on idle CPU
  nice19     traced, every thread of waitscope reniced to 19 once it has attached: the
             workload's threads preempt the agent, which still gets a little CPU

"Attached" is the client's exec: waitscope record forks the command parked, attaches, then
lets it exec (the script polls /proc/PID/task/PID/children every 2 ms until then).

For each run: the client's throughput (requests/s per redis test, tps for pgbench), the
client's CPU time, waitscope's own CPU time (utime+stime of the waitscope process, sampled
from /proc/PID/stat until it exits), the machine's idle share over the client's run
((idle+iowait) / total of /proc/stat's cpu line, from the client's exec to its exit; in
clock ticks, so coarse for runs shorter than a second), and,
for traced runs, report.json's `loss` section and the number of exchanges the parsers
reported (sum of queries[].count). Prints a Markdown table: medians (min..max) and the
loss vs plain, in percent.

Nothing is pinned (2-core machine: server, client and agent share the CPUs).
This is a benchmark, not a test: nothing here belongs in ctest.

Examples:
  sudo /usr/bin/python3 tools/bench/wire_overhead.py
  sudo /usr/bin/python3 tools/bench/wire_overhead.py --variants 0,256 --markdown-out w.md
  sudo /usr/bin/python3 tools/bench/wire_overhead.py --quick
  sudo /usr/bin/python3 tools/bench/wire_overhead.py --only redis --diagnose stopped,sched-idle
"""
import argparse
import json
import os
import pwd
import re
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (RedisServer, find_binary, free_port, machine_info,  # noqa: E402
                      make_log)  # (same directory)

log = make_log("wire_overhead")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_LOSS_PCT = 5.0  # issue: <= 5 % throughput loss on the traced client, capture on
DIAGNOSE_CONFIGS = ["stopped", "sched-idle", "nice19"]  # --diagnose; see the module docstring




def find_pg_bin(name):
    for d in ["/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin"]:
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    sys.exit(f"cannot find {name} (PostgreSQL 15)")



def proc_cpu(pid):
    """(self utime+stime, waited-for children cutime+cstime) in seconds, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    # fields[0] is state (field 3); utime is field 14 -> index 11.
    ut, st, cut, cst = (int(x) for x in fields[11:15])
    return (ut + st) / CLK_TCK, (cut + cst) / CLK_TCK


def proc_vcsw(pid):
    """voluntary context switches of the process's main thread (its wake-ups), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_ticks():
    """(idle+iowait, total) ticks of all CPUs, from /proc/stat's cpu line."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]  # user..steal (guest is in user)
    return v[3] + v[4], sum(v)


def idle_pct(t0, t1):
    """The machine's idle share in percent between two cpu_ticks() samples."""
    total = t1[1] - t0[1]
    return 100.0 * (t1[0] - t0[0]) / total if total > 0 else None


def exec_child(pid):
    """pid's child once it has exec'd (its exe is no longer pid's), else None."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
        if kids and os.readlink(f"/proc/{kids[0]}/exe") != os.readlink(f"/proc/{pid}/exe"):
            return int(kids[0])
    except OSError:
        pass  # not forked yet, or already gone
    return None


def run_sampled(cmd, client_is_child=False, on_attach=None, on_client_exit=None,
                sample_interval=0.02, attach_interval=0.002, timeout=600):
    """Runs cmd, samples its /proc/PID/stat until it exits.

    Returns (stdout, stderr, rc, wall_s, self_cpu_s, children_cpu_s, total_cpu_s, vcsw,
    idle_pct). vcsw: voluntary context switches of its main thread (last sample).
    total_cpu_s is wait4's rusage (the process and the children it waited for); self_cpu_s is the
    process's own CPU (last sample before exit; misses at most one interval);
    children_cpu_s is the CPU of the children it waited for, from wait4's rusage minus
    the process's own CPU (exact apart from that sampling error).
    The client is cmd itself, or with client_is_child (waitscope record -- CLIENT) cmd's
    child from its exec on, which is when waitscope has attached: on_attach(cmd's pid) is
    called then, on_client_exit(cmd's pid) once the client has exited (a pidfd tells at
    once, even while cmd is stopped and cannot reap it). idle_pct: the machine's idle share
    between those two points (None if the client was never seen).
    """
    t0 = time.monotonic()
    out_f = tempfile.TemporaryFile()
    err_f = tempfile.TemporaryFile()
    ticks0 = None if client_is_child else cpu_ticks()
    p = subprocess.Popen(cmd, stdout=out_f, stderr=err_f)
    client_fd = None if client_is_child else os.pidfd_open(p.pid)
    idle = None
    last = (0.0, 0.0)
    vcsw = None
    deadline = t0 + timeout

    def client_exited(cmd_alive=True):
        nonlocal client_fd, idle
        idle = idle_pct(ticks0, cpu_ticks())
        os.close(client_fd)
        client_fd = None
        if on_client_exit and cmd_alive:
            on_client_exit(p.pid)

    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        s = proc_cpu(p.pid)
        if s is not None:
            last = s
            vcsw = proc_vcsw(p.pid) or vcsw
        if ticks0 is None and (child := exec_child(p.pid)) is not None:
            try:
                client_fd = os.pidfd_open(child)
            except ProcessLookupError:
                pass  # exited and reaped since: no window, no hooks; look again
            else:
                ticks0 = cpu_ticks()
                if on_attach:
                    on_attach(p.pid)
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            break
        if client_fd is not None:
            if select.select([client_fd], [], [], sample_interval)[0]:
                client_exited()
        else:
            time.sleep(attach_interval if ticks0 is None else sample_interval)
    if client_fd is not None:  # cmd exited (or was killed) before we saw the client's exit
        client_exited(cmd_alive=False)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    total = ru.ru_utime + ru.ru_stime  # self + reaped children
    self_cpu = last[0]
    out_f.seek(0)
    err_f.seek(0)
    out = out_f.read().decode(errors="replace")
    err = err_f.read().decode(errors="replace")
    return (out, err, p.returncode, wall, self_cpu, max(0.0, total - self_cpu), total, vcsw,
            idle)


def for_each_thread(pid, fn):
    """Calls fn(tid) for every thread of pid. Threads it starts later inherit
    scheduling policy and nice value from the thread that starts them."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fn(int(tid))
        except ProcessLookupError:
            pass  # the thread exited meanwhile


def set_sched_idle(pid):
    """Moves every thread of pid to SCHED_IDLE, like `chrt -a -i -p 0 PID`."""
    for_each_thread(pid, lambda t: os.sched_setscheduler(t, os.SCHED_IDLE, os.sched_param(0)))


def set_nice19(pid):
    """Renices every thread of pid to 19 (nice values are per thread on Linux)."""
    for_each_thread(pid, lambda t: os.setpriority(os.PRIO_PROCESS, t, 19))


# ---------------------------------------------------------------- servers


class Postgres:
    def __init__(self, tmp, scale):
        self.pw = pwd.getpwnam("postgres")
        self.dir = tempfile.mkdtemp(prefix="waitscope-wire-pg-", dir="/var/tmp")
        os.chown(self.dir, self.pw.pw_uid, self.pw.pw_gid)
        os.chmod(self.dir, 0o700)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.started = False
        self.as_pg([find_pg_bin("initdb"), "-D", self.data, "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--no-sync"])
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
                "-c max_connections=50 -c fsync=off")
        self.as_pg([find_pg_bin("pg_ctl"), "-D", self.data, "-l",
                    os.path.join(self.dir, "server.log"), "-o", opts, "-w", "start"])
        self.started = True
        log(f"pgbench -i -s {scale} (untraced)")
        subprocess.run([find_pg_bin("pgbench"), "-i", "-s", str(scale), "-q"] + self.conn_args(),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def conn_args(self):
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "postgres"]

    def as_pg(self, cmd):
        subprocess.run(["runuser", "-u", "postgres", "--"] + cmd, check=True, cwd=self.dir,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self):
        try:
            if self.started:
                self.as_pg([find_pg_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- workloads

RB_LINE = re.compile(r"^\s*([A-Za-z_]+):\s+([\d.]+)\s+requests per second")
TPS_LINE = re.compile(r"^tps = ([\d.]+)")
PG_TX_LINE = re.compile(r"number of transactions actually processed:\s+(\d+)")


def parse_redis(out):
    res = {}
    for line in re.split(r"[\r\n]+", out):
        m = RB_LINE.match(line)
        if m:
            res[m.group(1).upper()] = float(m.group(2))
    if not res:
        raise RuntimeError(f"no requests/s in redis-benchmark output: {out[-500:]!r}")
    return res


def parse_pgbench(out):
    m = None
    for line in out.splitlines():
        m2 = TPS_LINE.match(line.strip())
        if m2:
            m = m2
    if not m:
        raise RuntimeError(f"no tps in pgbench output: {out[-500:]!r}")
    tx = PG_TX_LINE.search(out)
    return {"tps": float(m.group(1)), "transactions": int(tx.group(1)) if tx else None}


class Bench:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.n = 0
        self.results = []  # dicts

    def outdir(self):
        self.n += 1
        return os.path.join(self.tmp, f"r{self.n}")

    def run(self, workload, client_cmd, config, parse):
        rec = {"workload": workload, "config": config}
        if config == "plain":
            cmd = client_cmd
        else:
            out_dir = self.outdir()
            binary = (self.args.baseline_waitscope if config == "traced@base"
                      else self.args.waitscope)
            cmd = [binary, "record", "-q", "-o", out_dir]
            if config.startswith("cap="):
                cmd += ["--capture-bytes", config.split("=", 1)[1]]
            cmd += ["--"] + client_cmd
        attached = []  # the diagnostic hook ran

        def on_attach(pid):
            attached.append(pid)
            if config == "stopped":
                os.kill(pid, signal.SIGSTOP)
            elif config == "sched-idle":
                set_sched_idle(pid)
            elif config == "nice19":
                set_nice19(pid)

        def on_client_exit(pid):
            if config == "stopped":
                os.kill(pid, signal.SIGCONT)

        out, err, rc, wall, self_cpu, child_cpu, total_cpu, vcsw, idle = run_sampled(
            cmd, client_is_child=config != "plain", on_attach=on_attach,
            on_client_exit=on_client_exit)
        if rc != 0:
            raise RuntimeError(f"{shlex.join(cmd)} exited {rc}: {err[-800:]}")
        if config in DIAGNOSE_CONFIGS and not attached:
            raise RuntimeError(f"{config}: the client's exec was not seen, so the diagnostic "
                               "was not applied; rerun")
        rec["metrics"] = parse(out)
        rec["wall_s"] = wall
        rec["machine_idle_pct"] = idle
        if config == "plain":
            rec["client_cpu_s"] = total_cpu  # wait4 rusage of the client itself
            rec["agent_cpu_s"] = None
        else:
            rec["client_cpu_s"] = child_cpu
            rec["agent_cpu_s"] = self_cpu
            rec["agent_wakeups"] = vcsw
            with open(os.path.join(out_dir, "report.json")) as f:
                rep = json.load(f)
            rec["loss"] = rep.get("loss", {})
            rec["exchanges"] = sum(q.get("count", 0) for q in rep.get("queries", []))
            rec["report_duration_s"] = rep.get("duration_s")
            shutil.rmtree(out_dir, ignore_errors=True)
        rec["cmd"] = shlex.join(cmd)
        self.results.append(rec)
        m = rec["metrics"]
        extra = ""
        if config != "plain":
            extra = (f" agent_cpu={rec['agent_cpu_s']:.2f}s wakeups={rec['agent_wakeups']}"
                     f" loss={rec['loss']}"
                     f" exchanges={rec['exchanges']}")
        idle_s = "?" if idle is None else f"{idle:.1f}%"
        log(f"{workload:18s} {config:10s} {json.dumps(m)} client_cpu={rec['client_cpu_s']:.2f}s"
            f" wall={wall:.1f}s idle={idle_s}{extra}")
        return rec


def fmt_range(vals, fmt="{:.0f}"):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    return f"{fmt.format(statistics.median(vals))} ({fmt.format(min(vals))}..{fmt.format(max(vals))})"


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def exchanges_col(cfg, rs):
    if cfg == "plain":
        return "–"
    return f"{median([r.get('exchanges') for r in rs]):.0f}"


def wakeups_col(cfg, rs):
    vals = [r.get("agent_wakeups") for r in rs]
    if cfg == "plain" or median(vals) is None:
        return "–"
    return f"{median(vals):.0f}"


def markdown(bench, workloads, configs, info, args, cmdline):
    lines = []
    lines.append(f"Run: {info['date']}; machine: {info['nproc']} CPUs ({info['cpu_model']}), "
                 f"{info['mem_gib']} GiB, kernel {info['kernel']}; load average at start "
                 f"{' '.join(info['loadavg_at_start'])}.")
    lines.append("")
    lines.append(f"Command: `{cmdline}`")
    lines.append("")
    lines.append(f"Throughput: median of {args.runs} (min..max), configurations alternating, "
                 "nothing pinned. Loss = 1 - median(config) / median(plain). Client CPU = "
                 "utime+stime of the benchmark client (the BPF hooks run in its context, so "
                 "they are in it); agent CPU = waitscope's own process. Drops, truncated "
                 "bytes and parse errors: report.json `loss`, summed over the runs "
                 "(min..max per run); exchanges = sum of queries[].count in report.json, "
                 "median per run; agent wake-ups = voluntary context switches of waitscope's "
                 "main thread (it polls the ring buffers), median per run. Machine idle = "
                 "(idle+iowait) / total of /proc/stat's cpu line (all CPUs) over the client's "
                 f"run, from its exec (waitscope attached) to its exit; it counts in "
                 f"1/{CLK_TCK} s ticks per CPU, so short runs read in coarse steps.")
    diag = [c for c in configs if c in DIAGNOSE_CONFIGS]
    if diag:
        lines.append("")
        lines.append(f"Diagnostics ({', '.join(diag)}; not for shipping, no target): traced, "
                     "but once waitscope has attached `stopped` sends it SIGSTOP (SIGCONT "
                     "after the client exits), so the throughput is the producer side alone "
                     "(hooks, copies, ring buffers) with nobody consuming and the drops are "
                     "what overflowed the rings; `sched-idle` moves all its threads to "
                     "SCHED_IDLE (`chrt -a -i -p 0 PID`), so the agent only gets idle CPU; "
                     "`nice19` renices all its threads to 19, so the workload preempts it.")
    lines.append("")
    lines.append("| workload | metric | config | throughput | loss vs plain | target | met "
                 "| client CPU s | agent CPU s | machine idle % | events_dropped "
                 "| bytes_truncated | parse_errors | exchanges parsed / run "
                 "| agent wake-ups / run |")
    lines.append("|---|---|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = []
    for wl, metrics in workloads:
        plain = [r for r in bench.results if r["workload"] == wl and r["config"] == "plain"]
        for metric in metrics:
            base = median([r["metrics"].get(metric) for r in plain])
            for cfg in configs:
                rs = [r for r in bench.results if r["workload"] == wl and r["config"] == cfg]
                if not rs:
                    continue
                vals = [r["metrics"].get(metric) for r in rs]
                med = median(vals)
                loss = None if cfg == "plain" or not base else (1 - med / base) * 100
                target, met = "–", "–"
                if cfg == "traced":
                    target = f"<= {TARGET_LOSS_PCT:.0f} %"
                    met = "yes" if loss <= TARGET_LOSS_PCT else "**NO**"
                    summary.append((wl, metric, base, med, loss, met))
                def loss_col(key):
                    if cfg == "plain":
                        return "–"
                    xs = [r["loss"].get(key, 0) for r in rs]
                    return f"{sum(xs)} ({min(xs)}..{max(xs)})"
                lines.append(
                    f"| {wl} | {metric} | {cfg} | {fmt_range(vals)} | "
                    f"{'–' if loss is None else f'{loss:+.1f} %'} | {target} | {met} | "
                    f"{fmt_range([r['client_cpu_s'] for r in rs], '{:.2f}')} | "
                    f"{fmt_range([r['agent_cpu_s'] for r in rs], '{:.2f}')} | "
                    f"{fmt_range([r['machine_idle_pct'] for r in rs], '{:.1f}')} | "
                    f"{loss_col('events_dropped')} | {loss_col('bytes_truncated')} | "
                    f"{loss_col('parse_errors')} | "
                    f"{exchanges_col(cfg, rs)} | {wakeups_col(cfg, rs)} |")
    lines.append("")
    return "\n".join(lines), summary


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--waitscope")
    ap.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    ap.add_argument("--redis-benchmark",
                    default=shutil.which("redis-benchmark") or "redis-benchmark")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--redis-requests", type=int, default=200000,
                    help="requests per redis-benchmark test at -P 1; times P at -P P")
    ap.add_argument("--redis-clients", type=int, default=16)
    ap.add_argument("--redis-pipelines", default="1,16",
                    help="comma list of -P values (1: no pipelining)")
    ap.add_argument("--pg-seconds", type=int, default=10)
    ap.add_argument("--pg-clients", type=int, default=4)
    ap.add_argument("--pg-threads", type=int, default=2)
    ap.add_argument("--pg-scale", type=int, default=10)
    ap.add_argument("--variants", default="",
                    help="extra --capture-bytes values to run traced, e.g. 0,256")
    ap.add_argument("--only", default="redis,pgbench", help="redis,pgbench")
    ap.add_argument("--baseline-waitscope", metavar="PATH",
                    help="also run traced with this waitscope binary (config traced@base), "
                         "to compare two builds in one run")
    ap.add_argument("--diagnose", default="",
                    help="extra traced configs that show where the cost is, comma list of "
                         "stopped (waitscope SIGSTOPped once attached: producer side alone, "
                         "drops expected), sched-idle (waitscope's threads SCHED_IDLE once "
                         "attached), nice19 (its threads reniced to 19 once attached); "
                         "default none")
    ap.add_argument("--quick", action="store_true",
                    help="2 runs, 20000 requests, 3 s pgbench, scale 1")
    ap.add_argument("--markdown-out")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (waitscope needs BPF; initdb runs as user postgres)")
    if args.quick:
        args.runs, args.redis_requests, args.pg_seconds, args.pg_scale = 2, 20000, 3, 1
    args.waitscope = find_binary(args.waitscope, [
        os.path.join(REPO, "..", "build-wbench", "agent", "cli", "waitscope"),
        os.path.join(REPO, "..", "build-bench", "agent", "cli", "waitscope"),
        os.path.join(REPO, "..", "build", "agent", "cli", "waitscope")])
    only = set(args.only.split(","))
    diagnose = [d for d in args.diagnose.split(",") if d != ""]
    if any(d not in DIAGNOSE_CONFIGS for d in diagnose):
        ap.error(f"--diagnose takes a comma list of {','.join(DIAGNOSE_CONFIGS)}")
    configs = ["plain", "traced"] + [f"cap={v}" for v in args.variants.split(",") if v != ""]
    if args.baseline_waitscope:
        if not os.access(args.baseline_waitscope, os.X_OK):
            ap.error(f"--baseline-waitscope: not an executable: {args.baseline_waitscope}")
        configs.append("traced@base")
    configs += diagnose
    cmdline = "/usr/bin/python3 tools/bench/wire_overhead.py " + shlex.join(sys.argv[1:])
    info = machine_info()
    log(f"waitscope: {args.waitscope}; baseline: {args.baseline_waitscope}; configs: {configs}; "
        f"load {info['loadavg_at_start']}")

    tmp = tempfile.mkdtemp(prefix="waitscope-wire-")
    redis = pg = None
    bench = Bench(args, tmp)
    workloads = []  # (name, metrics, client_cmd, parser)
    try:
        if "redis" in only:
            redis = RedisServer(args.redis_server, tmp)
            log(f"redis-server on 127.0.0.1:{redis.port}")
            for p in [int(x) for x in args.redis_pipelines.split(",")]:
                cmd = [args.redis_benchmark, "-h", "127.0.0.1", "-p", str(redis.port),
                       "-t", "get,set", "-n", str(args.redis_requests * p),
                       "-c", str(args.redis_clients), "-q"]
                if p > 1:
                    cmd += ["-P", str(p)]
                workloads.append((f"redis -P {p}", ["SET", "GET"], cmd, parse_redis))
        if "pgbench" in only:
            pg = Postgres(tmp, args.pg_scale)
            log(f"postgres on 127.0.0.1:{pg.port} ({pg.dir})")
            cmd = [find_pg_bin("pgbench"), "-S", "-T", str(args.pg_seconds),
                   "-c", str(args.pg_clients), "-j", str(args.pg_threads), "-n"] + pg.conn_args()
            workloads.append(("pgbench -S", ["tps"], cmd, parse_pgbench))

        # Warm-up: one untraced run of each client (page cache, server caches).
        for name, _, cmd, parse in workloads:
            log(f"warm-up {name}")
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

        for rnd in range(args.runs):
            order = configs[rnd % len(configs):] + configs[:rnd % len(configs)]
            log(f"round {rnd + 1}/{args.runs}: order {order}")
            for name, _, cmd, parse in workloads:
                for cfg in order:
                    bench.run(name, cmd, cfg, parse)
    finally:
        if redis:
            redis.stop()
        if pg:
            try:
                pg.stop()
            except Exception as e:  # noqa: BLE001 - report and keep cleaning up
                log(f"stopping postgres failed: {e}")
        shutil.rmtree(tmp, ignore_errors=True)

    md, summary = markdown(bench, [(w[0], w[1]) for w in workloads], configs, info, args,
                           cmdline)
    print(md)
    if args.markdown_out:
        with open(args.markdown_out, "w") as f:
            f.write(md)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"machine": info, "results": bench.results, "cmdline": cmdline}, f,
                      indent=1)
    for wl, metric, base, med, loss, met in summary:
        log(f"{wl} {metric}: plain {base:.0f}, traced {med:.0f}, loss {loss:+.1f} % ({met})")


if __name__ == "__main__":
    main()
