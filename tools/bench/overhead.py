#!/usr/bin/python3
"""waitscope overhead benchmark (see BENCHMARKS.md). Standard library only; run as root.

Measures, in one run:
  syscall overhead   pingpong (1-byte pipe ping-pong, 4 syscalls per round trip), sockets
                     (the same ping-pong over UNIX socketpairs: the wire hooks' socket
                     tracepoints fire at every read and write, for traced and untraced
                     processes alike) and a getppid() loop, each run three ways,
                     alternating, --runs times:
                       baseline  the workload alone, no waitscope
                       traced    waitscope record -q -o TMP --min-block 1ms -- WORKLOAD
                       untraced  WORKLOAD while waitscope records another (sleeping)
                                 process: hooks attached system-wide, workload filtered out
                     and reports medians (min/max) and the added ns per syscall vs baseline.
  agent cost         waitscope recording `pingpong blocking-rate RATE SECONDS`: waitscope's
                     own CPU (utime+stime from /proc/PID/stat) as % of one core, and its RSS
                     (VmRSS, VmHWM from /proc/PID/status) sampled over time.
  soak               the same as agent cost for --soak-minutes (e.g. 10), to show RSS is flat.

This is a benchmark, not a test: nothing here belongs in ctest.

Examples:
  sudo /usr/bin/python3 tools/bench/overhead.py                       # overhead + 60 s agent cost
  sudo /usr/bin/python3 tools/bench/overhead.py --quick               # quick smoke run
  sudo /usr/bin/python3 tools/bench/overhead.py --only soak --soak-minutes 10 --markdown-out soak.md
"""
import argparse
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import find_binary, machine_info, make_log  # noqa: E402  (same directory)

log = make_log("overhead")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

# Targets from the issue.
TARGET_TRACED_NS = 300.0
TARGET_UNTRACED_NS = 50.0
TARGET_CPU_PCT = 2.0
TARGET_RSS_MIB = 64.0

WORKLOADS = ("pingpong", "sockets", "getppid")  # --workloads





def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON in output: {text!r}")


def bpf_link_count(pid):
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:bpf_link":
                    n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n


def wait_attached(proc, timeout=30.0):
    """Waits until waitscope holds its BPF links (the hooks are live)."""
    deadline = time.monotonic() + timeout
    last, stable_since = -1, None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"waitscope exited early with {proc.returncode}")
        n = bpf_link_count(proc.pid)
        if n >= 3 and n == last:
            if stable_since and time.monotonic() - stable_since > 0.3:
                return n
        else:
            stable_since = time.monotonic()
        last = n
        time.sleep(0.05)
    raise RuntimeError("waitscope did not attach its hooks in time")


def stop(proc, timeout=60):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Runner:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="waitscope-bench-")
        self.n = 0

    def outdir(self):
        self.n += 1
        return os.path.join(self.tmp, f"r{self.n}")

    def workload_cmd(self, workload):
        pp = [self.args.pingpong]
        if self.args.cpu >= 0:
            pp += ["--cpu", str(self.args.cpu)]
        if workload == "pingpong":
            return pp + [str(self.args.round_trips)]
        if workload == "sockets":
            return pp + ["sockets", str(self.args.round_trips)]
        return pp + ["syscalls", str(self.args.syscalls)]

    def baseline(self, workload):
        out = subprocess.run(self.workload_cmd(workload), check=True, capture_output=True, text=True)
        return last_json(out.stdout)

    def traced(self, workload):
        cmd = [self.args.waitscope, "record", "-q", "-o", self.outdir(), "--min-block", "1ms", "--"]
        cmd += self.workload_cmd(workload)
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        return last_json(out.stdout)

    def untraced(self, workload):
        sleeper = subprocess.Popen(["sleep", "100000"])
        ws = subprocess.Popen(
            [self.args.waitscope, "record", "-q", "-o", self.outdir(), "--min-block", "1ms",
             "-p", str(sleeper.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_attached(ws)
            return self.baseline(workload)
        finally:
            stop(ws)
            sleeper.kill()
            sleeper.wait()

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def summarize(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}


METRICS = ("cpu_ns_per_syscall", "ns_per_syscall")  # process CPU time, wall time


def run_overhead(r, args):
    configs = ["baseline", "traced", "untraced"]
    results = {}
    for workload in args.workloads:
        samples = {m: {c: [] for c in configs} for m in METRICS}
        for i in range(args.runs):
            # Rotate the order each round so no config always runs first/last.
            order = configs[i % 3:] + configs[:i % 3]
            for c in order:
                res = getattr(r, c)(workload)
                for m in METRICS:
                    samples[m][c].append(res[m])
                log(f"{workload} run {i + 1}/{args.runs} {c:9s} cpu {res['cpu_ns_per_syscall']:8.1f} "
                    f"wall {res['ns_per_syscall']:8.1f} ns/syscall")
        results[workload] = {}
        for m in METRICS:
            summ = {c: summarize(samples[m][c]) for c in configs}
            base = summ["baseline"]["median"]
            for c in ("traced", "untraced"):
                summ[c]["added_ns"] = summ[c]["median"] - base
                # Paired per round (same round = close in time), for a noise estimate.
                paired = [t - b for t, b in zip(samples[m][c], samples[m]["baseline"])]
                summ[c]["added_paired"] = summarize(paired)
            results[workload][m] = summ
    return results


def read_stat_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def read_status_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:", "RssFile:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0])
    return out


def run_agent(r, args, seconds, sample_every, label):
    """waitscope recording `pingpong blocking-rate RATE seconds`; samples its CPU and RSS."""
    out_dir = r.outdir()
    cmd = [args.waitscope, "record", "-q", "-o", out_dir, "--min-block", args.agent_min_block,
           "--", args.pingpong, "blocking-rate", str(args.rate), str(seconds)]
    log(f"{label}: {' '.join(cmd)}")
    t0 = time.monotonic()
    ws = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = ws.pid
    samples = []  # (t, cpu_ticks, status)
    next_print = 0.0
    status, ru = None, None
    try:
        while True:
            # wait4 (not Popen.poll) so the rusage of the reaped process is ours.
            wpid, wst, wru = os.wait4(pid, os.WNOHANG)
            if wpid == pid:
                status, ru = wst, wru
                break
            try:
                t = time.monotonic() - t0
                ticks = read_stat_cpu_ticks(pid)
                st = read_status_kib(pid)
            except (OSError, ValueError, IndexError):
                st = None
            if st:  # empty for a zombie
                samples.append((t, ticks, st))
                if t >= next_print:
                    log(f"{label} t={t:6.1f}s cpu={ticks / CLK_TCK:6.2f}s VmRSS={st.get('VmRSS', 0) / 1024:.1f} MiB "
                        f"VmHWM={st.get('VmHWM', 0) / 1024:.1f} MiB")
                    next_print += sample_every
            time.sleep(0.5)
        ws.returncode = os.waitstatus_to_exitcode(status)
    except BaseException:
        ws.kill()
        raise
    wall = time.monotonic() - t0
    stdout = ws.stdout.read()
    stderr = ws.stderr.read()
    if ws.returncode != 0:
        raise RuntimeError(f"waitscope failed ({ws.returncode}): {stderr}")
    load = last_json(stdout)
    waits = None
    try:
        with open(os.path.join(out_dir, "report.json")) as f:
            rep = json.load(f)
        waits = sum(w.get("count", 0) for w in rep.get("waits", [])) if isinstance(rep.get("waits"), list) else None
        loss = rep.get("loss")
    except (OSError, ValueError):
        rep, loss = None, None

    # Steady state: from 5 s in (BPF load/attach done) to the last sample while the
    # load still ran (before the final report is written).
    steady = [s for s in samples if 5.0 <= s[0] <= seconds]
    cpu_pct_steady = None
    if len(steady) >= 2:
        dt = steady[-1][0] - steady[0][0]
        cpu_pct_steady = 100.0 * (steady[-1][1] - steady[0][1]) / CLK_TCK / dt
    last_ticks = samples[-1][1] if samples else 0
    cpu_pct_total = 100.0 * last_ticks / CLK_TCK / wall
    # RSS table at every sample_every seconds.
    table, next_t = [], 0.0
    for t, ticks, st in samples:
        if t >= next_t:
            table.append({"t_s": round(t, 1), "cpu_s": ticks / CLK_TCK,
                          "vmrss_mib": st.get("VmRSS", 0) / 1024, "vmhwm_mib": st.get("VmHWM", 0) / 1024,
                          "rss_anon_mib": st.get("RssAnon", 0) / 1024})
            next_t += sample_every
    if samples:
        t, ticks, st = samples[-1]
        table.append({"t_s": round(t, 1), "cpu_s": ticks / CLK_TCK,
                      "vmrss_mib": st.get("VmRSS", 0) / 1024, "vmhwm_mib": st.get("VmHWM", 0) / 1024,
                      "rss_anon_mib": st.get("RssAnon", 0) / 1024, "last": True})
    # RSS growth: VmRSS at 10 s vs at the end of the load.
    rss_after = [s[2].get("VmRSS", 0) for s in samples if 10.0 <= s[0] <= seconds]
    return {
        "label": label, "command": shlex.join(cmd), "seconds": seconds, "wall_s": wall,
        "load": load, "report_waits": waits, "report_loss": loss,
        "cpu_pct_steady": cpu_pct_steady, "cpu_pct_total": cpu_pct_total,
        "maxrss_mib_wait4": ru.ru_maxrss / 1024,
        "vmrss_mib_at_10s": rss_after[0] / 1024 if rss_after else None,
        "vmrss_mib_at_end": rss_after[-1] / 1024 if rss_after else None,
        "vmrss_mib_max": max(s[2].get("VmRSS", 0) for s in samples) / 1024 if samples else None,
        "samples": table,
    }


def yes_no(ok):
    return "yes" if ok else "**NO**"


def markdown(info, args, overhead, agents):
    lines = []
    lines.append(f"Run: {info['date']}; machine: {info['nproc']} CPUs ({info['cpu_model']}), "
                 f"{info['mem_gib']} GiB, kernel {info['kernel']}; load average at start "
                 f"{' '.join(info['loadavg_at_start'])}.")
    lines.append("")
    lines.append("Command: `" + " ".join(shlex.quote(a) for a in ["/usr/bin/python3"] + sys.argv) + "`")
    lines.append("")
    if overhead:
        lines.append(f"### Syscall overhead (ns per syscall; median of {args.runs} (min..max); "
                     + (f"workload pinned to CPU {args.cpu})" if args.cpu >= 0 else "workload not pinned)"))
        lines.append("")
        lines.append("CPU = the workload process's CPU time (CLOCK_PROCESS_CPUTIME_ID) per syscall, which "
                     "includes the BPF hooks (they run in its context) but not time other tasks took the CPU; "
                     "wall = elapsed time per syscall. Targets are judged on the CPU-time medians.")
        lines.append("")
        lines.append("| workload | config | CPU ns/syscall | added CPU ns (paired: median, min..max) | "
                     "wall ns/syscall | added wall ns | target | met |")
        lines.append("|---|---|---|---|---|---:|---|---|")
        for workload, by_metric in overhead.items():
            wl = {"pingpong": f"pingpong ({args.round_trips} round trips)",
                  "sockets": f"socket ping-pong ({args.round_trips} round trips)"}.get(
                      workload, f"getppid loop ({args.syscalls} calls)")
            cpu, wall = by_metric["cpu_ns_per_syscall"], by_metric["ns_per_syscall"]
            for c in ("baseline", "traced", "untraced"):
                sc, sw = cpu[c], wall[c]
                cells = f"| {wl} | {c} | {sc['median']:.1f} ({sc['min']:.1f}..{sc['max']:.1f}) |"
                if c == "baseline":
                    lines.append(cells + f" – | {sw['median']:.1f} ({sw['min']:.1f}..{sw['max']:.1f}) | – | – | – |")
                    continue
                target = TARGET_TRACED_NS if c == "traced" else TARGET_UNTRACED_NS
                p = sc["added_paired"]
                lines.append(cells + f" **{sc['added_ns']:+.1f}** ({p['median']:+.1f}, {p['min']:+.1f}..{p['max']:+.1f}) | "
                             f"{sw['median']:.1f} ({sw['min']:.1f}..{sw['max']:.1f}) | {sw['added_ns']:+.1f} | "
                             f"< {target:.0f} ns | {yes_no(sc['added_ns'] < target)} |")
        lines.append("")
    for a in agents:
        load = a["load"]
        lines.append(f"### Agent cost: {a['label']} ({a['seconds']:.0f} s, "
                     f"{load['blocking_waits_per_s']:.0f} blocking waits/s achieved)")
        lines.append("")
        lines.append(f"Command: `{a['command']}`")
        lines.append("")
        lines.append("| metric | value | target | met |")
        lines.append("|---|---:|---|---|")
        if a["cpu_pct_steady"] is not None:
            lines.append(f"| waitscope CPU, steady state (5 s .. end of load), % of one core | "
                         f"{a['cpu_pct_steady']:.2f} | < {TARGET_CPU_PCT:.0f} % | {yes_no(a['cpu_pct_steady'] < TARGET_CPU_PCT)} |")
        lines.append(f"| waitscope CPU incl. start-up and report writing, % of one core | "
                     f"{a['cpu_pct_total']:.2f} | – | – |")
        lines.append(f"| peak RSS (ru_maxrss from wait4, whole run incl. report), MiB | "
                     f"{a['maxrss_mib_wait4']:.1f} | < {TARGET_RSS_MIB:.0f} MiB | {yes_no(a['maxrss_mib_wait4'] < TARGET_RSS_MIB)} |")
        if a["vmrss_mib_at_10s"] is not None:
            growth = a["vmrss_mib_at_end"] - a["vmrss_mib_at_10s"]
            lines.append(f"| VmRSS at 10 s -> end of load, MiB | {a['vmrss_mib_at_10s']:.1f} -> "
                         f"{a['vmrss_mib_at_end']:.1f} ({growth:+.2f}) | flat | {yes_no(abs(growth) < 1.0)} |")
        lines.append(f"| waits in report.json | {a['report_waits']} | – | – |")
        lines.append(f"| report loss section | `{json.dumps(a['report_loss'])}` | – | – |")
        lines.append("")
        lines.append("| t (s) | waitscope CPU (s, cumulative) | VmRSS (MiB) | VmHWM (MiB) | RssAnon (MiB) |")
        lines.append("|---:|---:|---:|---:|---:|")
        for s in a["samples"]:
            lines.append(f"| {s['t_s']:.1f}{' (last)' if s.get('last') else ''} | {s['cpu_s']:.2f} | "
                         f"{s['vmrss_mib']:.1f} | {s['vmhwm_mib']:.1f} | {s['rss_anon_mib']:.1f} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--waitscope", help="waitscope binary (default: build dirs under the repo)")
    ap.add_argument("--pingpong", help="pingpong binary (default: next to waitscope's build)")
    ap.add_argument("--runs", type=int, default=5, help="runs per config (default 5)")
    ap.add_argument("--round-trips", type=int, default=200000, help="pingpong round trips per run")
    ap.add_argument("--syscalls", type=int, default=5000000, help="getppid calls per run")
    ap.add_argument("--cpu", type=int, default=(os.cpu_count() or 1) - 1,
                    help="pin the workload to this CPU (-1: no pinning; default: last CPU)")
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help=f"comma list of {','.join(WORKLOADS)} (default all three)")
    ap.add_argument("--rate", type=int, default=10000, help="blocking waits/s for agent cost")
    ap.add_argument("--agent-seconds", type=float, default=60, help="agent cost duration (default 60)")
    ap.add_argument("--agent-min-block", default="1ms", help="--min-block for the agent-cost recording")
    ap.add_argument("--soak-minutes", type=float, default=0, help="also run a soak this long (e.g. 10)")
    ap.add_argument("--only", default="", help="comma list of overhead,agent,soak")
    ap.add_argument("--quick", action="store_true", help="3 runs, smaller workloads, 15 s agent cost")
    ap.add_argument("--markdown-out", help="write the Markdown results to this file")
    ap.add_argument("--append-to", help="append the Markdown results to this file (e.g. BENCHMARKS.md)")
    ap.add_argument("--json-out", help="write raw results as JSON")
    args = ap.parse_args()
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if any(w not in WORKLOADS for w in args.workloads):
        ap.error(f"--workloads takes a comma list of {','.join(WORKLOADS)}")

    if os.geteuid() != 0:
        sys.exit("run as root (waitscope needs CAP_BPF/CAP_PERFMON)")
    args.waitscope = find_binary(args.waitscope, [
        os.path.join(REPO, "..", "build-bench", "agent", "cli", "waitscope"),
        os.path.join(REPO, "build", "agent", "cli", "waitscope")])
    args.pingpong = find_binary(args.pingpong, [
        os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(args.waitscope))), "tools", "bench", "pingpong")])
    if args.quick:
        args.runs = min(args.runs, 3)
        args.round_trips = min(args.round_trips, 50000)
        args.syscalls = min(args.syscalls, 1000000)
        args.agent_seconds = min(args.agent_seconds, 15)
    only = set(x.strip() for x in args.only.split(",") if x.strip()) or {"overhead", "agent", "soak"}

    info = machine_info()
    log(f"machine: {info}")
    r = Runner(args)
    overhead, agents = None, []
    try:
        if "overhead" in only:
            overhead = run_overhead(r, args)
        if "agent" in only and args.agent_seconds > 0:
            agents.append(run_agent(r, args, args.agent_seconds, 5, f"{args.rate}/s for {args.agent_seconds:.0f} s"))
        if "soak" in only and args.soak_minutes > 0:
            agents.append(run_agent(r, args, args.soak_minutes * 60, 30, f"soak, {args.soak_minutes:g} min"))
    finally:
        r.cleanup()
    md = markdown(info, args, overhead, agents)
    print(md)
    if args.markdown_out:
        with open(args.markdown_out, "w") as f:
            f.write(md)
    if args.append_to:
        with open(args.append_to, "a") as f:
            f.write("\n" + md)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"machine": info, "argv": sys.argv, "overhead": overhead, "agents": agents}, f, indent=1)


if __name__ == "__main__":
    main()
